package dev.drover.agent;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Looks up the servers' members by name, walking up from a runtime class. A member that is not there means a
 * server version the agent was not built for; the exception names it, and the caller refuses the app.
 */
final class Members {

    private Members() {
    }

    static Field field(Class<?> from, String name) {
        for (Class<?> c = from; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // declared higher up, perhaps
            }
        }
        throw new MissingMember("field " + from.getName() + "." + name);
    }

    static Method method(Class<?> from, String name, Class<?>... parameters) {
        for (Class<?> c = from; c != null; c = c.getSuperclass()) {
            try {
                Method m = c.getDeclaredMethod(name, parameters);
                m.setAccessible(true);
                return m;
            } catch (NoSuchMethodException e) {
                // declared higher up, perhaps
            }
        }
        throw new MissingMember("method " + from.getName() + "." + name + "(" + parameters.length + " parameters)");
    }

    static Object get(Field field, Object target) {
        try {
            return field.get(target);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e); // setAccessible succeeded when it was looked up
        }
    }

    /** A class of the server's, from the class loader that loaded {@code neighbour} (the app's, not the agent's). */
    static Class<?> classNamed(String name, Class<?> neighbour) {
        try {
            return Class.forName(name, false, neighbour.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new MissingMember("class " + name);
        }
    }

    /** Calls a member looked up here; its own failure is the server's fault, not a checked condition. */
    static Object invoke(Method method, Object target, Object... args) {
        try {
            return method.invoke(target, args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("calling " + method + ": " + e.getCause(), e);
        }
    }

    /** A server member the agent relies on is missing (another version of the server). */
    static final class MissingMember extends RuntimeException {
        MissingMember(String member) {
            super(member);
        }
    }
}
