package io.trainkv.tools;

import io.trainkv.DbIterator;
import io.trainkv.IteratorOptions;
import io.trainkv.Options;
import io.trainkv.Stats;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import io.trainkv.storage.NioStorage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainkv dump DIR}: exports every live key and value of a closed database in key order
 * (opened read-only: the directory is left as it was), optionally limited to a prefix and to a key
 * range {@code [from, to)} ({@code [from, to]} with --inclusive), in a format and encoding that
 * {@code trainkv load} reads back byte for byte. An output file is written under a temporary name
 * ({@code FILE.<random>.partial}, with the default permissions the umask gives), fsynced, renamed
 * into place only when the dump is complete and the directory fsynced, so a failed dump leaves no
 * partial file and a finished one survives a crash. Options, including a missing output
 * directory, are checked before the directory is opened. Exit codes by {@link Severity}: 0 when
 * everything was written; 1 when a key or value the chosen format and encoding cannot carry
 * (binary data as text, a line break in TSV) stops the dump naming the key, or the database is
 * damaged (the open or the read meets a {@code CorruptionException}, or {@code CURRENT} is lost);
 * 2 on usage or I/O errors, a directory that is not a database or that another process holds.
 */
@Command(name = "dump", mixinStandardHelpOptions = true,
        description = {"Export the keys and values of a closed database as TSV, CSV or JSON lines, in key order.",
            "The output loads back exactly with: trainkv load DIR FILE --format F --encoding E",
            "A range is [from, to): the --to key is excluded unless --inclusive."})
public final class DumpCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "The database directory.")
    Path directory;

    @Option(names = {"-o", "--output"}, defaultValue = "-", paramLabel = "FILE|-",
            description = "Where to write: a file, or - for standard output (the default).")
    String output;

    @Option(names = "--force", description = "Replace the output file if it exists.")
    boolean force;

    @Option(names = "--format", paramLabel = "tsv|csv|jsonl", description = "tsv, csv or jsonl. Default: from the output file's extension, else tsv.")
    RecordFormat format;

    @Option(names = "--encoding", defaultValue = "text", paramLabel = "text|hex|base64",
            description = "How keys and values are written: text (UTF-8), hex or base64. Default: ${DEFAULT-VALUE}")
    FieldEncoding encoding;

    @Option(names = "--prefix", paramLabel = "KEY", description = "Only keys with this prefix: " + KeyArgument.HELP + ".")
    String prefix;

    @Mixin
    KeyRange keyRange;

    @Override
    public Integer call() {
        boolean toStdout = output.equals("-");
        RecordFormat chosen = format != null ? format : toStdout ? RecordFormat.tsv : RecordFormat.forFileName(output);
        String usage = keyRange.usageError();
        if (usage != null) {
            System.err.println("error: " + usage);
            return 2;
        }
        IteratorOptions range;
        try {
            range = range();
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        Path target = toStdout ? null : Path.of(output).toAbsolutePath().normalize();
        String unwritable = target == null ? null : unwritable(target);
        if (unwritable != null) {
            System.err.println("error: cannot write " + output + ": " + unwritable);
            return 2;
        }
        ClosedDirectory.Refusal refusal = ClosedDirectory.openRefusal(directory);
        if (refusal != null) {
            return ClosedDirectory.fail(directory, refusal.severity(), refusal.reason(), false, System.out, System.err);
        }
        Path partial = target == null ? null : target.resolveSibling(target.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".partial");
        AtomicLong keys = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        AtomicBoolean complete = new AtomicBoolean();
        int code;
        try (TrainKV db = TrainKV.open(Options.at(directory).readOnly(true))) {
            long estimate = estimatedBytes(db.stats());
            // created with the default permissions (the umask decides), unlike the database's own files
            try (FileChannel file = partial == null ? null
                    : FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 OutputStream stream = file == null ? new UncloseableStream(System.out) : Channels.newOutputStream(file);
                 Writer out = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), 1 << 16);
                 Progress progress = Progress.start(() -> (complete.get() ? Progress.bar(1, 1)
                         : Progress.bar(bytes.get(), Math.max(estimate, bytes.get() + 1)))
                         + String.format(Locale.ROOT, " %,d keys", keys.get()))) {
                code = write(db, range, chosen, out, keys, bytes, progress);
                out.flush();
                if (file != null && code == 0) {
                    file.force(true);
                }
                if (code == 0) {
                    complete.set(true);
                    progress.succeeded();
                }
            }
            if (target != null && code == 0) {
                NioStorage folder = NioStorage.open(target.getParent());
                folder.rename(partial.getFileName().toString(), target.getFileName().toString());
                folder.syncDirectory();
            }
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            code = Severity.UNUSABLE.exitCode();
        } catch (TrainKVException e) {
            System.err.println("error: " + e.getMessage());
            code = Severity.of(e).exitCode();
        } finally {
            deleteQuietly(partial);
        }
        if (code == 0) {
            System.err.println("dumped " + keys.get() + " keys to " + (toStdout ? "standard output" : output));
        }
        return code;
    }

    /**
     * Why {@code target} cannot be written, in words (its directory is missing or not a
     * directory, or it exists and --force is not given), or null if it can.
     */
    private String unwritable(Path target) {
        Path folder = target.getParent();
        if (!Files.exists(folder)) {
            return "the directory " + folder + " does not exist";
        }
        if (!Files.isDirectory(folder)) {
            return folder + " is not a directory";
        }
        if (Files.isDirectory(target)) {
            return "it is a directory";
        }
        if (Files.exists(target) && !force) {
            return "it exists; use --force to replace it";
        }
        return null;
    }

    private int write(TrainKV db, IteratorOptions range, RecordFormat chosen, Writer out, AtomicLong keys,
                      AtomicLong bytes, Progress progress) throws IOException {
        try (DbIterator it = db.iterator(range)) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                byte[] key = it.key();
                byte[] value = it.value();
                String line;
                boolean encoded = false;
                try {
                    String keyText = encoding.encode(key);
                    String valueText = encoding.encode(value);
                    encoded = true;
                    line = chosen.format(keyText, valueText);
                } catch (IllegalArgumentException e) {
                    out.flush();
                    progress.println("error: key 0x" + HexFormat.of().formatHex(key) + ": " + e.getMessage()
                            + "; dump with --encoding base64 (or hex)" + (encoded ? " or --format jsonl" : "")
                            + (output.equals("-") ? "" : "; " + output + " was not written"));
                    return 1;
                }
                out.write(line);
                out.write('\n');
                keys.incrementAndGet();
                bytes.addAndGet(key.length + value.length);
            }
        }
        return 0;
    }

    private IteratorOptions range() {
        IteratorOptions range = IteratorOptions.forward();
        if (prefix != null) {
            range.prefix(KeyArgument.parse(prefix));
        }
        return keyRange.applyTo(range);
    }

    /** About how many key and value bytes the database holds, for the progress bar. */
    private static long estimatedBytes(Stats stats) {
        long tables = stats.levels().stream().mapToLong(Stats.LevelStats::bytes).sum();
        return tables + stats.memtableBytes() + stats.valueLogBytes();
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                System.err.println("warning: cannot delete " + file + ": " + e.getMessage());
            }
        }
    }

    /** Standard output, flushed but left open when the dump's writer closes. */
    private static final class UncloseableStream extends java.io.FilterOutputStream {
        UncloseableStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
