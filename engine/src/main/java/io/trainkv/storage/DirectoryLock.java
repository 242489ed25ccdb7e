package io.trainkv.storage;

import java.io.Closeable;
import java.io.IOException;

/** Proof of exclusive ownership of a database directory; closing it releases the directory. */
public interface DirectoryLock extends Closeable {
    @Override
    void close() throws IOException;
}
