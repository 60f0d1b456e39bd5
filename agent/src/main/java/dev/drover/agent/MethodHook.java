package dev.drover.agent;

import java.util.function.Consumer;
import org.objectweb.asm.MethodVisitor;

/**
 * What to insert into one method of a server class: code at its entry, before each return (the returned value, if
 * any, is on the stack and must stay there), and on a thrown exception (the Throwable is on the stack and must stay
 * there; it is rethrown after). Each part may be null. The inserted code must be stack-neutral and branch-free:
 * the method's stack map frames are kept as they are (a part with a branch brings its own frame, as
 * ServerClassTransformer.endAcceptorClosedByDrain does).
 *
 * @param descriptor the method's descriptor, or null for every method of that name (all constructors)
 */
record MethodHook(String name, String descriptor, Consumer<MethodVisitor> atEntry, Consumer<MethodVisitor> atReturn,
                  Consumer<MethodVisitor> atThrow) {

    boolean matches(String methodName, String methodDescriptor) {
        return name.equals(methodName) && (descriptor == null || descriptor.equals(methodDescriptor));
    }

    @Override
    public String toString() {
        return name + (descriptor == null ? "" : descriptor);
    }
}
