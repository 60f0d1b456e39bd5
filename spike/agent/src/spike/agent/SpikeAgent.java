package spike.agent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;
import jdk.internal.org.objectweb.asm.ClassReader;
import jdk.internal.org.objectweb.asm.ClassVisitor;
import jdk.internal.org.objectweb.asm.ClassWriter;
import jdk.internal.org.objectweb.asm.MethodVisitor;
import jdk.internal.org.objectweb.asm.Opcodes;
import jnr.posix.CmsgHdr;
import jnr.posix.MsgHdr;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * Spike (issue 12): a Java agent that, before the app's main runs, takes the listening socket from the master over
 * SCM_RIGHTS, puts it on fd 0 (so System.inheritedChannel() returns it), and rewrites Tomcat's Connector and Jetty's
 * ServerConnector constructors so that they adopt fd 0 instead of binding a port of their own.
 */
public final class SpikeAgent {

    public static void premain(String args, Instrumentation inst) throws Exception {
        long started = System.nanoTime();
        // The JDK's own ASM and sun.nio.ch are not exported; an agent may open them to itself.
        Module base = Object.class.getModule();
        Module me = SpikeAgent.class.getModule();
        inst.redefineModule(base, Set.of(), Map.of(),
                Map.of("sun.nio.ch", Set.of(me), "jdk.internal.org.objectweb.asm", Set.of(me)), Set.of(), Map.of());
        boolean cachedBefore = inheritedChannelCached();
        int listener = -1;
        if (System.getenv("SPIKE_LINK") != null) {
            // Route A: the socket comes over the link (SCM_RIGHTS) and is moved onto fd 0 here, with native code.
            listener = receiveListener(System.getenv("SPIKE_LINK"));
            POSIX posix = POSIXFactory.getNativePOSIX();
            if (posix.dup2(listener, 0) < 0) {
                throw new IllegalStateException("dup2(" + listener + ", 0) failed: errno " + posix.errno());
            }
            posix.close(listener);
        } // Route B: the master spawned the worker with the socket already on its fd 0; nothing to do.
        long fdMs = (System.nanoTime() - started) / 1_000_000;
        inst.addTransformer(new AdoptFdZero());
        // Spike stand-in for the link's DRAIN message (HUP would otherwise end the JVM).
        sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> new Thread(Hooks::drain, "spike-drain").start());
        Thread stats = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                if (System.getenv("SPIKE_STATS") != null) {
                    System.err.printf("spike-agent: STATS requests=%d inflight=%d oldest_ms=%d%n",
                            Hooks.REQUESTS.get(), Hooks.INFLIGHT.size(), Hooks.oldestInflightMs());
                }
            }
        }, "spike-stats");
        stats.setDaemon(true);
        stats.start();
        System.err.printf("spike-agent: pid %d: listener fd %d -> fd 0 in %d ms (premain %d ms); inheritedChannel cached before: %s%n",
                ProcessHandle.current().pid(), listener, fdMs, (System.nanoTime() - started) / 1_000_000, cachedBefore);
    }

    /** True if the JDK already looked at fd 0 (it caches System.inheritedChannel() at the first call). */
    private static boolean inheritedChannelCached() throws Exception {
        Field have = Class.forName("sun.nio.ch.InheritedChannel").getDeclaredField("haveChannel");
        have.setAccessible(true);
        return have.getBoolean(null);
    }

    /** Connects to the master's link (a Unix socket), says HELLO, receives one fd over SCM_RIGHTS. */
    private static int receiveListener(String linkPath) throws Exception {
        SocketChannel link = SocketChannel.open(UnixDomainSocketAddress.of(linkPath));
        link.write(ByteBuffer.wrap(("HELLO pid=" + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)));
        Method fdVal = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
        int linkFd = (int) fdVal.invoke(link);
        POSIX posix = POSIXFactory.getNativePOSIX();
        MsgHdr msg = posix.allocateMsgHdr();
        msg.setIov(new ByteBuffer[] {ByteBuffer.allocateDirect(64)});
        msg.allocateControl(4);
        if (posix.recvmsg(linkFd, msg, 0) <= 0) {
            throw new IllegalStateException("recvmsg on the link failed: errno " + posix.errno());
        }
        for (CmsgHdr control : msg.getControls()) {
            if (control.getLevel() == 1 /* SOL_SOCKET */ && control.getType() == 1 /* SCM_RIGHTS */) {
                // The link stays open (kept by the static reference below): its EOF tells the worker the master died.
                LINK = link;
                return control.getData().order(java.nio.ByteOrder.nativeOrder()).getInt(0);
            }
        }
        throw new IllegalStateException("the master's answer carried no file descriptor");
    }

    private static SocketChannel LINK;

    /**
     * Rewrites the servers' classes: their connectors adopt fd 0 and register themselves; their start, the Spring
     * application's ready point and each request call into {@link Hooks}.
     */
    private static final class AdoptFdZero implements ClassFileTransformer {
        private static final String HOOKS = "spike/agent/Hooks";

        @Override
        public byte[] transform(ClassLoader loader, String name, Class<?> redefined, ProtectionDomain pd, byte[] bytes) {
            switch (name == null ? "" : name) {
                case "org/apache/catalina/connector/Connector":
                    return rewrite(bytes, (m, d) -> m.equals("<init>") ? Where.EXIT : m.equals("startInternal") ? Where.EXIT : null,
                            (mv, m, entry) -> {
                                mv.visitVarInsn(Opcodes.ALOAD, 0);
                                if (m.equals("<init>")) {
                                    // this.setProperty("useInheritedChannel", "true"); Hooks.connectorCreated(this)
                                    mv.visitLdcInsn("useInheritedChannel");
                                    mv.visitLdcInsn("true");
                                    mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, name, "setProperty", "(Ljava/lang/String;Ljava/lang/String;)Z", false);
                                    mv.visitInsn(Opcodes.POP);
                                    mv.visitVarInsn(Opcodes.ALOAD, 0);
                                    mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "connectorCreated", "(Ljava/lang/Object;)V", false);
                                } else {
                                    mv.visitInsn(Opcodes.POP); // the ALOAD 0 above
                                    started(mv, "Tomcat connector started");
                                }
                            });
                case "org/eclipse/jetty/server/ServerConnector":
                    return rewrite(bytes, (m, d) -> m.equals("<init>") ? Where.EXIT : null, (mv, m, entry) -> {
                        // this.setInheritChannel(true); Hooks.connectorCreated(this)
                        mv.visitVarInsn(Opcodes.ALOAD, 0);
                        mv.visitInsn(Opcodes.ICONST_1);
                        mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, name, "setInheritChannel", "(Z)V", false);
                        mv.visitVarInsn(Opcodes.ALOAD, 0);
                        mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "connectorCreated", "(Ljava/lang/Object;)V", false);
                    });
                case "org/eclipse/jetty/server/Server":
                    return rewrite(bytes, (m, d) -> m.equals("doStart") ? Where.EXIT
                            : m.equals("handle") && d.startsWith("(Lorg/eclipse/jetty/server/Request;") ? Where.ENTRY : null,
                            (mv, m, entry) -> {
                                if (m.equals("doStart")) {
                                    started(mv, "Jetty server started");
                                } else {
                                    // Counts only: the request may complete later, through its callback.
                                    mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "requestStart", "()V", false);
                                    mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "requestEnd", "()V", false);
                                }
                            });
                case "org/apache/catalina/connector/CoyoteAdapter":
                    return rewrite(bytes, (m, d) -> m.equals("service") ? Where.BOTH : null, (mv, m, entry) ->
                            mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, entry ? "requestStart" : "requestEnd", "()V", false));
                case "org/apache/tomcat/util/net/Acceptor":
                    // The accept gate: Tomcat's acceptor thread waits for READY before its first accept().
                    return rewrite(bytes, (m, d) -> m.equals("run") ? Where.ENTRY : null, (mv, m, entry) ->
                            mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "awaitReady", "()V", false));
                case "org/springframework/boot/SpringApplication":
                    return rewrite(bytes, (m, d) -> m.equals("run") && d.equals("([Ljava/lang/String;)Lorg/springframework/context/ConfigurableApplicationContext;") ? Where.BOTH : null,
                            (mv, m, entry) -> {
                                if (entry) {
                                    mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "springStarting", "()V", false);
                                } else {
                                    started(mv, "Spring application ready (run returned)");
                                    mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "ready", "()V", false);
                                }
                            });
                default:
                    return null;
            }
        }

        private static void started(MethodVisitor mv, String what) {
            mv.visitLdcInsn(what);
            mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "started", "(Ljava/lang/String;)V", false);
        }

        enum Where { ENTRY, EXIT, BOTH }

        /** Emits the injected call; {@code atEntry} tells the method's entry from a return. */
        interface Code {
            void emit(MethodVisitor mv, String method, boolean atEntry);
        }

        /**
         * Adds {@code code} at the entry or before each normal return of the methods {@code select} picks. BOTH is
         * the request counter (requestStart at entry, requestEnd at each return; a thrown exception is not counted
         * out: a spike's simplification).
         */
        private static byte[] rewrite(byte[] bytes, java.util.function.BiFunction<String, String, Where> select,
                                      Code code) {
            ClassReader reader = new ClassReader(bytes);
            ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
            reader.accept(new ClassVisitor(Opcodes.ASM8, writer) {
                @Override
                public MethodVisitor visitMethod(int access, String m, String desc, String sig, String[] ex) {
                    MethodVisitor mv = super.visitMethod(access, m, desc, sig, ex);
                    Where where = select.apply(m, desc);
                    if (where == null) {
                        return mv;
                    }
                    return new MethodVisitor(Opcodes.ASM8, mv) {
                        @Override
                        public void visitCode() {
                            super.visitCode();
                            if (where != Where.EXIT) {
                                code.emit(mv, m, true);
                            }
                        }

                        @Override
                        public void visitInsn(int opcode) {
                            if (opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN) {
                                if (where != Where.ENTRY) {
                                    code.emit(mv, m, false); // stack-neutral, so a returned value stays on top
                                }
                            }
                            super.visitInsn(opcode);
                        }
                    };
                }
            }, 0);
            System.err.println("spike-agent: rewrote " + reader.getClassName());
            return writer.toByteArray();
        }
    }
}
