package dev.drover.agent;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Rewrites, as they load, the few server classes the agent hooks (see {@link #HOOKS}); every other class costs one
 * map lookup by name. A class whose expected method is missing (another server version) is left as it is and the
 * app refused, never half hooked.
 */
final class ServerClassTransformer implements ClassFileTransformer {
    private static final String HOOKS_CLASS = "dev/drover/agent/Hooks";
    private static final String OBJECT_VOID = "(Ljava/lang/Object;)V";

    /**
     * The classes rewritten. Checked for every class the JVM loads, so it is the only thing premain initialises: the
     * table below uses lambdas, whose first use costs the JVM ~10-20 ms of java.lang.invoke set-up, which premain
     * should not pay before the app's main.
     */
    private static final Set<String> CLASSES = Set.of("org/apache/catalina/connector/Connector",
            "org/apache/catalina/core/StandardServer", "org/apache/catalina/connector/CoyoteAdapter",
            "org/apache/tomcat/util/net/Acceptor", "org/eclipse/jetty/server/ServerConnector",
            "org/eclipse/jetty/server/AbstractConnector$Acceptor", "org/eclipse/jetty/server/Server",
            "org/springframework/boot/SpringApplication");

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (className == null || !CLASSES.contains(className)) {
            return null;
        }
        try {
            return rewrite(className, bytes, Table.HOOKS.get(className));
        } catch (RuntimeException | LinkageError e) {
            ServerState.INSTANCE.readiness.refuse("Drover's agent could not rewrite " + className.replace('/', '.')
                    + ": " + e);
            return null;
        }
    }

    /** Server class (internal name) -> the methods to hook in it; initialised at the first server class. */
    private static final class Table {
        static final Map<String, List<MethodHook>> HOOKS = Map.of(
                "org/apache/catalina/connector/Connector", List.of(
                        new MethodHook("<init>", null, null, thisTo("tomcatConnectorCreated"), null),
                        // Tomcat binds at init: with no listener on fd 0 it fails there and leaves the connector out.
                        new MethodHook("initInternal", "()V", null, null, ServerClassTransformer::connectorFailed),
                        new MethodHook("startInternal", "()V", null, thisTo("tomcatConnectorStarted"),
                                ServerClassTransformer::connectorFailed)),
                "org/apache/catalina/core/StandardServer", List.of(
                        new MethodHook("startInternal", "()V", null, thisTo("tomcatServerStarted"), null)),
                "org/apache/catalina/connector/CoyoteAdapter", List.of(
                        new MethodHook("service", "(Lorg/apache/coyote/Request;Lorg/apache/coyote/Response;)V",
                                argTo(1, "tomcatRequestBegins"), argTo(1, "tomcatRequestReturned"),
                                argTo(1, "tomcatRequestThrew")),
                        new MethodHook("asyncDispatch", "(Lorg/apache/coyote/Request;Lorg/apache/coyote/Response;"
                                + "Lorg/apache/tomcat/util/net/SocketEvent;)Z",
                                null, argTo(1, "tomcatRequestReturned"), argTo(1, "tomcatRequestThrew"))),
                "org/apache/tomcat/util/net/Acceptor", List.of(
                        new MethodHook("run", "()V", call("awaitAcceptGate", "()V"), null, null)),
                "org/eclipse/jetty/server/ServerConnector", List.of(
                        new MethodHook("<init>", null, null, thisTo("jettyConnectorCreated"), null),
                        new MethodHook("open", "()V", null, thisTo("jettyConnectorOpened"),
                                ServerClassTransformer::connectorFailed)),
                "org/eclipse/jetty/server/AbstractConnector", List.of(
                        new MethodHook("handleAcceptFailure", "(Ljava/lang/Throwable;)Z",
                                ServerClassTransformer::endAcceptorClosedByDrain, null, null)),
                "org/eclipse/jetty/server/AbstractConnector$Acceptor", List.of(
                        new MethodHook("run", "()V", call("awaitAcceptGate", "()V"), null, null)),
                "org/eclipse/jetty/server/Server", List.of(
                        new MethodHook("doStart", "()V", null, thisTo("jettyServerStarted"), null),
                        new MethodHook("handle", "(Lorg/eclipse/jetty/server/Request;"
                                + "Lorg/eclipse/jetty/server/Response;Lorg/eclipse/jetty/util/Callback;)Z", ServerClassTransformer::wrapJettyCallback,
                                ServerClassTransformer::jettyHandleReturned, call("jettyHandleThrew", "()V"))),
                "org/springframework/boot/SpringApplication", List.of(
                        new MethodHook("run",
                                "([Ljava/lang/String;)Lorg/springframework/context/ConfigurableApplicationContext;",
                                call("springRunBegins", "()V"), call("springRunReturned", "()V"), null)));
    }

    static byte[] rewrite(String className, byte[] bytes, List<MethodHook> hooks) {
        ClassReader reader = new ClassReader(bytes);
        // COMPUTE_MAXS only: the inserted code adds no branch, so the class's own stack map frames stay valid.
        ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
        Set<MethodHook> applied = new HashSet<>();
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
                for (MethodHook hook : hooks) {
                    if (hook.matches(name, descriptor)) {
                        applied.add(hook);
                        return new HookedMethod(mv, hook, className, access, descriptor);
                    }
                }
                return mv;
            }
        }, 0);
        for (MethodHook hook : hooks) {
            if (!applied.contains(hook)) {
                throw new IllegalStateException("this version of " + className.replace('/', '.')
                        + " has no method " + hook + " (the agent was built for Tomcat 10.1, Jetty 12 and Spring"
                        + " Boot 3)");
            }
        }
        return writer.toByteArray();
    }

    /** Hooks.method(this) */
    private static java.util.function.Consumer<MethodVisitor> thisTo(String method) {
        return argTo(0, method);
    }

    /** Hooks.method(local slot) */
    private static java.util.function.Consumer<MethodVisitor> argTo(int slot, String method) {
        return mv -> {
            mv.visitVarInsn(Opcodes.ALOAD, slot);
            mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS_CLASS, method, OBJECT_VOID, false);
        };
    }

    private static java.util.function.Consumer<MethodVisitor> call(String method, String descriptor) {
        return mv -> mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS_CLASS, method, descriptor, false);
    }

    /** Throwable on the stack: Hooks.connectorFailed(this, throwable), the throwable kept. */
    private static void connectorFailed(MethodVisitor mv) {
        mv.visitInsn(Opcodes.DUP);
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitInsn(Opcodes.SWAP);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS_CLASS, "connectorFailed",
                "(Ljava/lang/Object;Ljava/lang/Throwable;)V", false);
    }

    /**
     * callback = Callback.from(callback, Hooks.jettyRequestBegins(response)): the request ends when its callback does.
     */
    private static void wrapJettyCallback(MethodVisitor mv) {
        mv.visitVarInsn(Opcodes.ALOAD, 3);
        mv.visitVarInsn(Opcodes.ALOAD, 2);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS_CLASS, "jettyRequestBegins",
                "(Ljava/lang/Object;)Ljava/lang/Runnable;", false);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, "org/eclipse/jetty/util/Callback", "from",
                "(Lorg/eclipse/jetty/util/Callback;Ljava/lang/Runnable;)Lorg/eclipse/jetty/util/Callback;", true);
        mv.visitVarInsn(Opcodes.ASTORE, 3);
    }

    /**
     * if (Hooks.jettyAcceptFailed(failure)) return false; The one hook with a branch, so it brings its frame: the
     * method's entry state (this, the Throwable; nothing on the stack), and a NOP after it, so that a frame the
     * method's own code may have at its first instruction does not fall on the same offset.
     */
    private static void endAcceptorClosedByDrain(MethodVisitor mv) {
        org.objectweb.asm.Label carryOn = new org.objectweb.asm.Label();
        mv.visitVarInsn(Opcodes.ALOAD, 1);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS_CLASS, "jettyAcceptFailed", "(Ljava/lang/Throwable;)Z", false);
        mv.visitJumpInsn(Opcodes.IFEQ, carryOn);
        mv.visitInsn(Opcodes.ICONST_0);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitLabel(carryOn);
        mv.visitFrame(Opcodes.F_SAME, 0, null, 0, null);
        mv.visitInsn(Opcodes.NOP);
    }

    /** The returned boolean on the stack: Hooks.jettyHandleReturned(handled), the value kept. */
    private static void jettyHandleReturned(MethodVisitor mv) {
        mv.visitInsn(Opcodes.DUP);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS_CLASS, "jettyHandleReturned", "(Z)V", false);
    }
}
