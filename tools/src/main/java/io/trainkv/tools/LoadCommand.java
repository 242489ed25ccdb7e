package io.trainkv.tools;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import io.trainkv.WriteBatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainkv load DIR FILE}: bulk-loads key/value pairs from TSV ({@code key<TAB>value}), CSV
 * ({@code key,value} with RFC 4180 quoting) or JSON lines ({@code {"key": "...", "value": "..."}})
 * in write batches, with a progress bar. A malformed line is reported with its number and stops
 * the load (what came before it is kept) unless {@code --continue-on-error}. Exit 0 when every line
 * loaded, 1 when lines were rejected, 2 on usage or I/O errors.
 */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = "Bulk-load key/value pairs from TSV, CSV or JSON lines into a database.")
public final class LoadCommand implements Callable<Integer> {

    /** The input formats. */
    enum Format { tsv, csv, jsonl }

    @Parameters(index = "0", paramLabel = "DIR", description = "The database directory (created if missing).")
    Path directory;

    @Parameters(index = "1", paramLabel = "FILE", description = "The input file.")
    Path input;

    @Option(names = "--format", description = "tsv, csv or jsonl. Default: from the file name, else tsv.")
    Format format;

    @Option(names = "--batch-size", defaultValue = "1000", description = "Keys per write batch. Default: ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--continue-on-error", description = "Skip malformed lines instead of stopping.")
    boolean continueOnError;

    @Override
    public Integer call() {
        Format chosen = format != null ? format : guess(input);
        long total;
        try {
            total = Files.size(input);
        } catch (IOException e) {
            System.err.println("error: cannot read " + input + ": " + e.getMessage());
            return 2;
        }
        AtomicLong bytesRead = new AtomicLong();
        AtomicLong loaded = new AtomicLong();
        int rejected = 0;
        try (TrainKV db = TrainKV.open(Options.at(directory));
             InputStream raw = new CountingStream(Files.newInputStream(input), bytesRead);
             BufferedReader lines = new BufferedReader(new InputStreamReader(raw, StandardCharsets.UTF_8));
             Progress progress = Progress.start(() -> Progress.bar(bytesRead.get(), total)
                     + String.format(Locale.ROOT, " %,d keys", loaded.get()))) {
            WriteBatch batch = new WriteBatch();
            String line;
            long number = 0;
            while ((line = lines.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                String[] pair;
                try {
                    pair = RecordParser.parse(chosen, line);
                    batch.set(pair[0], pair[1]);
                } catch (IllegalArgumentException e) {
                    rejected++;
                    System.err.println("\r" + input + ":" + number + ": error: " + e.getMessage());
                    if (!continueOnError) {
                        break;
                    }
                    continue;
                }
                if (batch.size() >= batchSize) {
                    db.write(batch);
                    loaded.addAndGet(batch.size());
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                db.write(batch);
                loaded.addAndGet(batch.size());
            }
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        } catch (TrainKVException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        System.out.println("loaded " + loaded.get() + " keys from " + input + (rejected > 0 ? ", rejected " + rejected + " lines" : ""));
        return rejected == 0 ? 0 : 1;
    }

    private static Format guess(Path input) {
        String name = input.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".csv")) {
            return Format.csv;
        }
        if (name.endsWith(".jsonl") || name.endsWith(".json")) {
            return Format.jsonl;
        }
        return Format.tsv;
    }

    /** Counts the bytes read, for the progress bar. */
    private static final class CountingStream extends java.io.FilterInputStream {
        private final AtomicLong count;

        CountingStream(InputStream in, AtomicLong count) {
            super(in);
            this.count = count;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count.incrementAndGet();
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                count.addAndGet(n);
            }
            return n;
        }
    }
}
