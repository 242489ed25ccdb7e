package io.trainkv.storage;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Releases memory mappings deterministically. The JDK unmaps a {@code MappedByteBuffer} only when
 * it is garbage collected, which keeps deleted table files' disk space and address space in use
 * for an unknown time; {@code sun.misc.Unsafe.invokeCleaner} (module {@code jdk.unsupported},
 * present in every JDK) unmaps at once. The caller must guarantee that no thread touches the
 * buffer, or any view of it, afterwards.
 */
public final class MappedBuffers {

    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Object unsafe = null;
        Method invokeCleaner = null;
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field field = unsafeClass.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            unsafe = field.get(null);
            invokeCleaner = unsafeClass.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            unsafe = null;
            invokeCleaner = null;
        }
        UNSAFE = unsafe;
        INVOKE_CLEANER = invokeCleaner;
    }

    private MappedBuffers() {
    }

    /** Unmaps {@code buffer} now if the JDK allows it; returns whether it did. */
    public static boolean unmap(ByteBuffer buffer) {
        if (INVOKE_CLEANER == null || !buffer.isDirect()) {
            return false;
        }
        try {
            INVOKE_CLEANER.invoke(UNSAFE, buffer);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }
}
