package io.trainkv.tools;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import io.trainkv.WriteBatch;
import io.trainkv.storage.FileNames;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.jline.terminal.spi.SystemStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainkv load DIR [FILE|-]}: bulk-loads key/value lines (TSV, CSV or JSON lines; text,
 * hex or base64 fields) in write batches, with a progress bar; an export stream
 * ({@code TrainKV.export}, recognised by its first bytes) is loaded by {@link ExportLoad}. A bad line is reported with its
 * number; with {@code --skip-bad} it is skipped, otherwise the load stops and the batch holding
 * that line is not written, so the database holds exactly the lines before the first line of that
 * batch. Exit 0 when every line loaded, 1 when lines were rejected, 2 on usage or I/O errors.
 */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = {"Bulk-load key/value lines from a file or standard input into a database.",
            "A bad line is reported with its number and stops the load before the batch that holds it "
                + "(earlier batches stay written), unless --skip-bad."})
public final class LoadCommand implements Callable<Integer> {

    /** A batch is also written once its keys and values reach this many bytes, so large values fit a memtable. */
    private static final long MAX_BATCH_BYTES = 4L << 20;

    @Parameters(index = "0", paramLabel = "DIR", description = "The database directory (created if missing or empty).")
    Path directory;

    @Parameters(index = "1", arity = "0..1", paramLabel = "FILE|-", defaultValue = "-",
            description = "The input file, or - for standard input (the default).")
    String input;

    @Option(names = "--format", paramLabel = "tsv|csv|jsonl", description = "tsv, csv or jsonl. Default: from the file name's extension, else tsv.")
    RecordFormat format;

    @Option(names = "--encoding", defaultValue = "text", paramLabel = "text|hex|base64",
            description = "How keys and values are written: text (UTF-8), hex or base64. Default: ${DEFAULT-VALUE}")
    FieldEncoding encoding;

    @Option(names = "--batch-size", defaultValue = "1000", paramLabel = "N",
            description = "Keys per write batch (a batch is also cut at 4 MiB of keys and values). Default: ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = {"--skip-bad", "--continue-on-error"}, description = "Skip bad lines (each is reported) instead of stopping.")
    boolean skipBad;

    /**
     * Whether standard input is a terminal (a person typing), where load says how to end the
     * input and draws no progress bar over the typing.
     */
    boolean inputIsTerminal = Terminals.isTerminal(SystemStream.Input);

    @Override
    public Integer call() {
        if (batchSize < 1) {
            System.err.println("error: --batch-size must be at least 1");
            return 2;
        }
        String refusal = ClosedDirectory.refusal(directory);
        if (refusal == null && !isDatabaseOrEmpty(directory)) {
            refusal = directory + " holds files but is not a TrainKV database (no CURRENT file); load into an empty "
                    + "or new directory, or an existing database";
        }
        if (refusal != null) {
            System.err.println("error: " + refusal);
            return 2;
        }
        boolean fromStdin = input.equals("-");
        String source = fromStdin ? "standard input" : input;
        RecordFormat chosen = format != null ? format : fromStdin ? RecordFormat.tsv : RecordFormat.forFileName(input);
        long total = -1;
        InputStream in;
        try {
            if (fromStdin) {
                in = System.in;
            } else {
                total = Files.size(Path.of(input));
                in = Files.newInputStream(Path.of(input));
            }
        } catch (IOException e) {
            System.err.println("error: cannot read " + input + ": "
                    + (e instanceof NoSuchFileException ? "no such file" : e.getMessage()));
            return 2;
        }
        if (fromStdin && inputIsTerminal) {
            System.err.println("reading " + chosen.title() + " from the terminal; end with Ctrl-D");
        }
        try {
            in = new BufferedInputStream(in);
            if (ExportLoad.isExportStream(in)) {
                return ExportLoad.load(directory, in, source, total);
            }
        } catch (IOException e) {
            System.err.println("error: cannot read " + source + ": " + e.getMessage());
            return 2;
        }
        long knownTotal = total;
        AtomicLong loaded = new AtomicLong();
        int rejected = 0;
        String stopped = null;
        try (TrainKV db = TrainKV.open(Options.at(directory));
             RecordSource records = chosen.open(in);
             Progress progress = Progress.start(System.err, Progress.errorIsTerminal() && !(fromStdin && inputIsTerminal),
                     () -> (knownTotal >= 0 ? Progress.bar(records.bytesRead(), knownTotal) + " "
                     : String.format(Locale.ROOT, "%,d bytes read, ", records.bytesRead()))
                     + String.format(Locale.ROOT, "%,d keys", loaded.get()))) {
            WriteBatch batch = new WriteBatch();
            long batchBytes = 0;
            long firstUnwrittenLine = 1;
            while (true) {
                try {
                    String[] pair = records.next();
                    if (pair == null) {
                        break;
                    }
                    byte[] key = field(pair[0], "key");
                    byte[] value = field(pair[1], "value");
                    batch.set(key, value);
                    batchBytes += key.length + value.length;
                } catch (IllegalArgumentException e) {
                    long number = records.recordLine();
                    rejected++;
                    progress.println(source + ":" + number + ": error: " + e.getMessage());
                    if (skipBad && !(e instanceof RecordSource.Unrecoverable)) {
                        continue;
                    }
                    stopped = "stopped at line " + number + ": lines " + firstUnwrittenLine + ".." + number
                            + " (the batch holding it) were not written" + (firstUnwrittenLine > 1
                            ? "; lines 1.." + (firstUnwrittenLine - 1) + " were" : "");
                    batch.clear();
                    break;
                }
                if (batch.size() >= batchSize || batchBytes >= MAX_BATCH_BYTES) {
                    db.write(batch);
                    loaded.addAndGet(batch.size());
                    batch.clear();
                    batchBytes = 0;
                    firstUnwrittenLine = records.linesRead() + 1;
                }
            }
            if (!batch.isEmpty()) {
                db.write(batch);
                loaded.addAndGet(batch.size());
            }
            if (stopped == null) {
                progress.succeeded();
            }
        } catch (IOException | TrainKVException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage() + " (" + loaded.get() + " keys were written before it)");
            return 2;
        }
        if (stopped != null) {
            System.err.println(stopped);
        }
        System.out.println("loaded " + loaded.get() + " keys from " + source
                + (rejected > 0 ? (skipBad ? ", skipped " : ", rejected ") + rejected + " bad line(s)" : ""));
        return rejected == 0 ? 0 : 1;
    }

    private static boolean isDatabaseOrEmpty(Path directory) {
        if (!Files.exists(directory) || Files.exists(directory.resolve(FileNames.CURRENT))) {
            return true;
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private byte[] field(String text, String what) {
        try {
            return encoding.decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " " + e.getMessage());
        }
    }
}
