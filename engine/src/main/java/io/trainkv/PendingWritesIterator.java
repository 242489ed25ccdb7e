package io.trainkv;

import io.trainkv.util.InternalIterator;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.util.Arrays;
import java.util.Map;
import java.util.NavigableMap;

/**
 * A transaction's pending writes as an internal iterator at the transaction's read version, so
 * that merged ahead of the database's sources they shadow what the snapshot holds for the same
 * keys (equal internal keys: the first source wins) and tombstones hide keys.
 */
final class PendingWritesIterator implements InternalIterator {

    private final NavigableMap<byte[], ValueStruct> pending;
    private final long version;
    private final boolean reverse;
    private Map.Entry<byte[], ValueStruct> current;
    private byte[] key = new byte[0];

    PendingWritesIterator(NavigableMap<byte[], ValueStruct> pending, long version, boolean reverse) {
        this.pending = pending;
        this.version = version;
        this.reverse = reverse;
    }

    @Override
    public boolean valid() {
        return current != null;
    }

    @Override
    public void seekToFirst() {
        position(reverse ? pending.lastEntry() : pending.firstEntry());
    }

    @Override
    public void seek(byte[] userKey, long seekVersion) {
        if (!reverse) {
            position(version <= seekVersion ? pending.ceilingEntry(userKey) : pending.higherEntry(userKey));
        } else {
            position(version >= seekVersion ? pending.floorEntry(userKey) : pending.lowerEntry(userKey));
        }
    }

    @Override
    public void next() {
        position(reverse ? pending.lowerEntry(current.getKey()) : pending.higherEntry(current.getKey()));
    }

    @Override
    public byte[] keyBuffer() {
        return key;
    }

    @Override
    public int keyLength() {
        return key.length;
    }

    @Override
    public ValueStruct value() {
        return current.getValue();
    }

    private void position(Map.Entry<byte[], ValueStruct> entry) {
        current = entry;
        if (entry != null) {
            key = Arrays.copyOf(entry.getKey(), entry.getKey().length + KeyFormat.VERSION_SIZE);
            KeyFormat.putVersion(key, entry.getKey().length, version);
        }
    }
}
