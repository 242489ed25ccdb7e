package io.trainkv.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.util.ByteOutput;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Manifest tag 8, the dropped-deletion watermark: its bytes, its absence in older edits, and how edits fold it. */
class DroppedDeletionManifestTest {

    private static byte[] encode(VersionEdit edit) {
        ByteOutput out = new ByteOutput(64);
        edit.encode(out);
        return Arrays.copyOf(out.array(), out.size());
    }

    @Test
    void tagEightIsOneTagByteAndAVersionAndRoundTrips() {
        byte[] bytes = encode(new VersionEdit().droppedDeletion(0x0102030405L));
        assertArrayEquals(new byte[] {8, 0, 0, 0, 1, 2, 3, 4, 5}, bytes);
        assertEquals(0x0102030405L, VersionEdit.decode(ByteBuffer.wrap(bytes), 7).droppedDeletionVersion());
    }

    @Test
    void anEditWithoutDroppedDeletionsWritesNoTagAndReadsAsZero() {
        byte[] bytes = encode(new VersionEdit().lastVersion(9).droppedDeletion(0));
        assertArrayEquals(new byte[] {2, 0, 0, 0, 0, 0, 0, 0, 9}, bytes, "what an older engine writes and reads");
        assertEquals(0, VersionEdit.decode(ByteBuffer.wrap(bytes), 7).droppedDeletionVersion());
    }

    @Test
    void theWatermarkOnlyGrowsAcrossEdits() {
        ManifestState state = ManifestState.of(List.of(new VersionEdit().droppedDeletion(40),
                new VersionEdit().lastVersion(50), new VersionEdit().droppedDeletion(12)));
        assertEquals(40, state.droppedDeletionVersion());
        assertEquals(0, ManifestState.of(List.of(new VersionEdit().lastVersion(50))).droppedDeletionVersion());
    }

    @Test
    void aNegativeWatermarkIsMalformed() {
        byte[] bytes = {8, -1, -1, -1, -1, -1, -1, -1, -1};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VersionEdit.decode(ByteBuffer.wrap(bytes), 7));
        assertTrue(e.getMessage().contains("dropped-deletion version"), e.getMessage());
    }
}
