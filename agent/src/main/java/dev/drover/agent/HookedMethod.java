package dev.drover.agent;

import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * Inserts one {@link MethodHook} into a method as ASM streams it. The exception part wraps the whole original body
 * in a catch-all added last to the exception table (so the method's own handlers still come first), with an
 * explicit frame: the handler sees only {@code this} and the parameters, which the hooked methods never reassign.
 */
final class HookedMethod extends MethodVisitor {
    private final MethodHook hook;
    private final String owner;
    private final boolean isStatic;
    private final String descriptor;
    private final Label bodyStart = new Label();

    HookedMethod(MethodVisitor next, MethodHook hook, String owner, int access, String descriptor) {
        super(Opcodes.ASM9, next);
        this.hook = hook;
        this.owner = owner;
        this.isStatic = (access & Opcodes.ACC_STATIC) != 0;
        this.descriptor = descriptor;
    }

    @Override
    public void visitCode() {
        super.visitCode();
        if (hook.atEntry() != null) {
            hook.atEntry().accept(mv);
        }
        if (hook.atThrow() != null) {
            super.visitLabel(bodyStart);
        }
    }

    @Override
    public void visitInsn(int opcode) {
        if (opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN && hook.atReturn() != null) {
            hook.atReturn().accept(mv);
        }
        super.visitInsn(opcode);
    }

    @Override
    public void visitMaxs(int maxStack, int maxLocals) {
        if (hook.atThrow() != null) {
            Label bodyEnd = new Label();
            Label handler = new Label();
            super.visitLabel(bodyEnd);
            super.visitTryCatchBlock(bodyStart, bodyEnd, handler, null);
            super.visitLabel(handler);
            Object[] locals = parameterFrame();
            super.visitFrame(Opcodes.F_FULL, locals.length, locals, 1, new Object[] {"java/lang/Throwable"});
            hook.atThrow().accept(mv);
            super.visitInsn(Opcodes.ATHROW);
        }
        super.visitMaxs(maxStack, maxLocals);
    }

    private Object[] parameterFrame() {
        Type[] parameters = Type.getArgumentTypes(descriptor);
        Object[] locals = new Object[parameters.length + (isStatic ? 0 : 1)];
        int i = 0;
        if (!isStatic) {
            locals[i++] = owner;
        }
        for (Type parameter : parameters) {
            locals[i++] = frameType(parameter);
        }
        return locals;
    }

    private static Object frameType(Type type) {
        switch (type.getSort()) {
            case Type.BOOLEAN: case Type.BYTE: case Type.CHAR: case Type.SHORT: case Type.INT:
                return Opcodes.INTEGER;
            case Type.FLOAT:
                return Opcodes.FLOAT;
            case Type.LONG:
                return Opcodes.LONG;
            case Type.DOUBLE:
                return Opcodes.DOUBLE;
            default:
                return type.getInternalName();
        }
    }
}
