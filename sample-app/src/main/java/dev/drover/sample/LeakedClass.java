package dev.drover.sample;

/**
 * The class the class-loader leak loads again and again, each time in a loader of its own (ClassLoaderLeak): a
 * class with many methods and constants, so each copy takes a measurable share of metaspace. Never used directly.
 */
public final class LeakedClass {

    private LeakedClass() {
    }

    public static long step0(long x) {
        return (x * 7L + "step0".length()) ^ (x >>> 1);
    }

    public static long step1(long x) {
        return (x * 38L + "step1".length()) ^ (x >>> 2);
    }

    public static long step2(long x) {
        return (x * 69L + "step2".length()) ^ (x >>> 3);
    }

    public static long step3(long x) {
        return (x * 100L + "step3".length()) ^ (x >>> 4);
    }

    public static long step4(long x) {
        return (x * 131L + "step4".length()) ^ (x >>> 5);
    }

    public static long step5(long x) {
        return (x * 162L + "step5".length()) ^ (x >>> 6);
    }

    public static long step6(long x) {
        return (x * 193L + "step6".length()) ^ (x >>> 7);
    }

    public static long step7(long x) {
        return (x * 224L + "step7".length()) ^ (x >>> 8);
    }

    public static long step8(long x) {
        return (x * 255L + "step8".length()) ^ (x >>> 9);
    }

    public static long step9(long x) {
        return (x * 286L + "step9".length()) ^ (x >>> 10);
    }

    public static long step10(long x) {
        return (x * 317L + "step10".length()) ^ (x >>> 11);
    }

    public static long step11(long x) {
        return (x * 348L + "step11".length()) ^ (x >>> 12);
    }

    public static long step12(long x) {
        return (x * 379L + "step12".length()) ^ (x >>> 13);
    }

    public static long step13(long x) {
        return (x * 410L + "step13".length()) ^ (x >>> 1);
    }

    public static long step14(long x) {
        return (x * 441L + "step14".length()) ^ (x >>> 2);
    }

    public static long step15(long x) {
        return (x * 472L + "step15".length()) ^ (x >>> 3);
    }

    public static long step16(long x) {
        return (x * 503L + "step16".length()) ^ (x >>> 4);
    }

    public static long step17(long x) {
        return (x * 534L + "step17".length()) ^ (x >>> 5);
    }

    public static long step18(long x) {
        return (x * 565L + "step18".length()) ^ (x >>> 6);
    }

    public static long step19(long x) {
        return (x * 596L + "step19".length()) ^ (x >>> 7);
    }

    public static long step20(long x) {
        return (x * 627L + "step20".length()) ^ (x >>> 8);
    }

    public static long step21(long x) {
        return (x * 658L + "step21".length()) ^ (x >>> 9);
    }

    public static long step22(long x) {
        return (x * 689L + "step22".length()) ^ (x >>> 10);
    }

    public static long step23(long x) {
        return (x * 720L + "step23".length()) ^ (x >>> 11);
    }

    public static long step24(long x) {
        return (x * 751L + "step24".length()) ^ (x >>> 12);
    }

    public static long step25(long x) {
        return (x * 782L + "step25".length()) ^ (x >>> 13);
    }

    public static long step26(long x) {
        return (x * 813L + "step26".length()) ^ (x >>> 1);
    }

    public static long step27(long x) {
        return (x * 844L + "step27".length()) ^ (x >>> 2);
    }

    public static long step28(long x) {
        return (x * 875L + "step28".length()) ^ (x >>> 3);
    }

    public static long step29(long x) {
        return (x * 906L + "step29".length()) ^ (x >>> 4);
    }

    public static long step30(long x) {
        return (x * 937L + "step30".length()) ^ (x >>> 5);
    }

    public static long step31(long x) {
        return (x * 968L + "step31".length()) ^ (x >>> 6);
    }

    public static long step32(long x) {
        return (x * 999L + "step32".length()) ^ (x >>> 7);
    }

    public static long step33(long x) {
        return (x * 1030L + "step33".length()) ^ (x >>> 8);
    }

    public static long step34(long x) {
        return (x * 1061L + "step34".length()) ^ (x >>> 9);
    }

    public static long step35(long x) {
        return (x * 1092L + "step35".length()) ^ (x >>> 10);
    }

    public static long step36(long x) {
        return (x * 1123L + "step36".length()) ^ (x >>> 11);
    }

    public static long step37(long x) {
        return (x * 1154L + "step37".length()) ^ (x >>> 12);
    }

    public static long step38(long x) {
        return (x * 1185L + "step38".length()) ^ (x >>> 13);
    }

    public static long step39(long x) {
        return (x * 1216L + "step39".length()) ^ (x >>> 1);
    }

    public static long step40(long x) {
        return (x * 1247L + "step40".length()) ^ (x >>> 2);
    }

    public static long step41(long x) {
        return (x * 1278L + "step41".length()) ^ (x >>> 3);
    }

    public static long step42(long x) {
        return (x * 1309L + "step42".length()) ^ (x >>> 4);
    }

    public static long step43(long x) {
        return (x * 1340L + "step43".length()) ^ (x >>> 5);
    }

    public static long step44(long x) {
        return (x * 1371L + "step44".length()) ^ (x >>> 6);
    }

    public static long step45(long x) {
        return (x * 1402L + "step45".length()) ^ (x >>> 7);
    }

    public static long step46(long x) {
        return (x * 1433L + "step46".length()) ^ (x >>> 8);
    }

    public static long step47(long x) {
        return (x * 1464L + "step47".length()) ^ (x >>> 9);
    }

    public static long step48(long x) {
        return (x * 1495L + "step48".length()) ^ (x >>> 10);
    }

    public static long step49(long x) {
        return (x * 1526L + "step49".length()) ^ (x >>> 11);
    }

    public static long step50(long x) {
        return (x * 1557L + "step50".length()) ^ (x >>> 12);
    }

    public static long step51(long x) {
        return (x * 1588L + "step51".length()) ^ (x >>> 13);
    }

    public static long step52(long x) {
        return (x * 1619L + "step52".length()) ^ (x >>> 1);
    }

    public static long step53(long x) {
        return (x * 1650L + "step53".length()) ^ (x >>> 2);
    }

    public static long step54(long x) {
        return (x * 1681L + "step54".length()) ^ (x >>> 3);
    }

    public static long step55(long x) {
        return (x * 1712L + "step55".length()) ^ (x >>> 4);
    }

    public static long step56(long x) {
        return (x * 1743L + "step56".length()) ^ (x >>> 5);
    }

    public static long step57(long x) {
        return (x * 1774L + "step57".length()) ^ (x >>> 6);
    }

    public static long step58(long x) {
        return (x * 1805L + "step58".length()) ^ (x >>> 7);
    }

    public static long step59(long x) {
        return (x * 1836L + "step59".length()) ^ (x >>> 8);
    }
}
