package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.ExportStream;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code trainkv load} of an export stream ({@code TrainKV.export}): sets and deletes written in
 * batches, with a progress bar, recognised by the stream's magic bytes whatever {@code --format}
 * says. Exit 0 when the whole stream loaded, 1 when it is damaged or truncated (the batches before
 * the damage stay written), 2 on an I/O error.
 */
final class ExportLoad {

    private static final int BATCH_RECORDS = 1000;

    private ExportLoad() {
    }

    /** Whether {@code in} (which must support mark/reset) starts with an export stream's magic; consumes nothing. */
    static boolean isExportStream(InputStream in) throws IOException {
        in.mark(8);
        byte[] head = in.readNBytes(8);
        in.reset();
        return ExportStream.startsWithMagic(head);
    }

    /** Loads the stream into the database in {@code directory}; {@code total} is its size in bytes, or -1. */
    static int load(Path directory, InputStream in, String source, long total) {
        AtomicLong written = new AtomicLong();
        try (TrainKV db = TrainKV.open(Options.at(directory)); in) {
            ExportStream.Reader reader = new ExportStream.Reader(in, source);
            try (Progress progress = Progress.start(() -> (total >= 0 ? Progress.bar(reader.offset(), total) + " "
                    : String.format(Locale.ROOT, "%,d bytes read, ", reader.offset()))
                    + String.format(Locale.ROOT, "%,d records", written.get()))) {
                ExportStream.importInto(db, reader, BATCH_RECORDS, written::set);
            }
            System.out.println("loaded " + written.get() + " records (sets and deletes) of versions ("
                    + reader.sinceVersion() + ", " + reader.untilVersion() + "] from " + source
                    + "; export again with since " + reader.untilVersion());
            return 0;
        } catch (CorruptionException e) {
            System.err.println("error: " + e.getMessage() + " (" + written.get() + " records were written before it)");
            return 1;
        } catch (IOException | TrainKVException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage() + " (" + written.get() + " records were written before it)");
            return 2;
        }
    }
}
