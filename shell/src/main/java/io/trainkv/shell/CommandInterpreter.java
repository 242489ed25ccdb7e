package io.trainkv.shell;

import io.trainkv.ConflictException;
import io.trainkv.DbIterator;
import io.trainkv.Entry;
import io.trainkv.IteratorOptions;
import io.trainkv.ReadOnlyException;
import io.trainkv.Transaction;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import io.trainkv.TxnTooBigException;
import io.trainkv.ValueLogGcReport;
import io.trainkv.WriteBatch;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * Runs shell commands against an open database: one line in, results to {@code out}, one-line
 * errors to {@code err}. Between {@code begin} and {@code commit}/{@code rollback} every command
 * runs in the transaction. Sets outside a transaction may be grouped into write batches (batch
 * mode) for speed; a batch is written before any other command runs.
 *
 * <p>Output rule: commands that show something (get, scan, count, stats, gc, checkpoint, help) always print
 * it; the acknowledgements of commands that change something (OK, BEGIN, COMMIT, ROLLBACK) are
 * printed interactively and with {@code --echo}, never in a quiet batch, whether or not the
 * sets were grouped.
 */
final class CommandInterpreter extends LineInterpreter {

    /** Thrown by {@code exit} and {@code quit}. */
    static final class ExitRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ExitRequested() {
            super(null, null, false, false);
        }
    }

    /** What is printed besides command results. */
    enum Output {
        /** Acknowledgements, as a person at the prompt expects. */
        INTERACTIVE,
        /** Results and errors only (batch mode). */
        QUIET,
        /** Each non-blank line, prefixed by {@code "> "}, then its acknowledgement and results (batch --echo). */
        ECHO
    }

    /** Thrown through nested {@code source} commands when they nest too deep; the outermost reports it. */
    private static final class SourceTooDeep extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SourceTooDeep(String message) {
            super(message, null, false, false);
        }
    }

    /** How deep {@code source} may nest: a file sourcing itself stops here. */
    static final int MAX_SOURCE_DEPTH = 16;

    /** A command's usage line and one-line description, for help. */
    record Help(String usage, String description) {
    }

    static final Map<String, Help> COMMANDS = new TreeMap<>(Map.ofEntries(
            Map.entry("set", new Help("set KEY VALUE [ttl=DURATION] | set --file KEY PATH", "store a value (TTL like 30s, 5m, 2h, 1d)")),
            Map.entry("get", new Help("get KEY [--hex]", "print a value (--hex: as 0x hex, for binary data)")),
            Map.entry("del", new Help("del KEY", "delete a key")),
            Map.entry("scan", new Help("scan [PREFIX | FROM TO] [--inclusive] [--limit N] [--reverse] [--keys-only] [--hex]",
                    "list keys and values in order; FROM TO is the range [FROM, TO): TO is excluded unless --inclusive")),
            Map.entry("count", new Help("count [PREFIX | FROM TO] [--inclusive]",
                    "count keys; FROM TO is the range [FROM, TO): TO is excluded unless --inclusive")),
            Map.entry("begin", new Help("begin [--read-only]", "start a transaction")),
            Map.entry("commit", new Help("commit", "commit the transaction")),
            Map.entry("rollback", new Help("rollback", "discard the transaction")),
            Map.entry("stats", new Help("stats", "levels, caches, value log and counters")),
            Map.entry("compact", new Help("compact", "flush and compact everything to the bottom level")),
            Map.entry("gc", new Help("gc [RATIO]", "collect value-log files whose discard ratio is at least RATIO (default 0.5)")),
            Map.entry("checkpoint", new Help("checkpoint DIR",
                    "copy the database as it is now into DIR (new or empty; hard links where it can), open with --db DIR")),
            Map.entry("source", new Help("source FILE", "run the commands in a file")),
            Map.entry("help", new Help("help [COMMAND]", "list commands or describe one")),
            Map.entry("exit", new Help("exit | quit", "close the database and leave (inside begin: asks whether to discard it)"))));

    /** Rows a scan prints when no --limit is given. */
    static final int DEFAULT_SCAN_LIMIT = 100;

    private final TrainKV db;
    private final PrintWriter out;
    private final PrintWriter err;
    private final int batchSize;
    private final Output output;
    private final WriteBatch pendingSets = new WriteBatch();
    private Transaction txn;
    /** Where the open transaction's {@code begin} was ({@code file:line}), or null if typed at the prompt. */
    private String txnBegunAt;
    private int sourceDepth;
    private BooleanSupplier cancelled = () -> false;

    /** An interpreter for the prompt: acknowledgements are printed. */
    CommandInterpreter(TrainKV db, PrintWriter out, PrintWriter err, int batchSize) {
        this(db, out, err, batchSize, Output.INTERACTIVE);
    }

    /**
     * @param batchSize how many consecutive sets outside a transaction are grouped into one write
     *        batch (1: none are)
     * @throws IllegalArgumentException if {@code batchSize} is below 1
     */
    CommandInterpreter(TrainKV db, PrintWriter out, PrintWriter err, int batchSize, Output output) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.db = db;
        this.out = out;
        this.err = err;
        this.batchSize = batchSize;
        this.output = output;
    }

    /** Lets a running scan stop early (Ctrl-C in the REPL). */
    void setCancellation(BooleanSupplier cancelled) {
        this.cancelled = cancelled;
    }

    boolean inTransaction() {
        return txn != null;
    }

    /** Where errors go. */
    PrintWriter errors() {
        return err;
    }

    /** Where the open transaction began ({@code file:line}), or null if it was typed at the prompt or none is open. */
    String transactionBegunAt() {
        return txnBegunAt;
    }

    /** With {@code --echo}, prints each non-blank line as {@code > line} before it runs. */
    @Override
    void beforeLine(String line) {
        if (output == Output.ECHO && !line.isBlank()) {
            out.println("> " + line);
        }
    }

    @Override
    boolean run(String name, List<Tokenizer.Word> args, String where) {
        String command = name.toLowerCase(Locale.ROOT);
        try {
            if (!command.equals("set") || txn != null || isFileSet(args)) {
                flushSets();
            }
            switch (command) {
                case "set" -> set(args);
                case "get" -> get(args);
                case "del" -> del(args);
                case "scan" -> scan(args, false);
                case "count" -> scan(args, true);
                case "begin" -> begin(args, where);
                case "commit" -> commit(args);
                case "rollback" -> rollback(args);
                case "stats" -> stats(args);
                case "compact" -> compact(args);
                case "gc" -> gc(args);
                case "checkpoint" -> checkpoint(args);
                case "source" -> source(args);
                case "help" -> help(args);
                case "exit", "quit" -> throw new ExitRequested();
                default -> throw new UsageException("unknown command '" + name + "' (try help)");
            }
            return true;
        } catch (UsageException | IllegalArgumentException | IllegalStateException e) {
            return fail(where, e.getMessage());
        } catch (ConflictException e) {
            return fail(where, "conflict: " + e.getMessage() + "; the transaction was rolled back");
        } catch (TxnTooBigException e) {
            return fail(where, "the transaction is full (at most half a memtable of writes), so this " + command
                    + " was not added; commit or rollback, then go on in a new begin");
        } catch (ReadOnlyException e) {
            return fail(where, "the database is open read-only (--read-only): " + command + " is not allowed"
                    + (command.equals("begin") ? "; use `begin --read-only`" : ""));
        } catch (TrainKVException e) {
            return fail(where, ErrorWords.of(e));
        }
    }

    /** Writes sets grouped in batch mode. */
    void flushSets() {
        if (!pendingSets.isEmpty()) {
            db.write(pendingSets);
            pendingSets.clear();
        }
    }

    private void acknowledge(String text) {
        if (output != Output.QUIET) {
            out.println(text);
        }
    }

    private static boolean isFileSet(List<Tokenizer.Word> args) {
        return !args.isEmpty() && args.get(0).isOption() && args.get(0).text().equals("--file");
    }

    private void set(List<Tokenizer.Word> args) throws UsageException {
        Entry entry;
        if (isFileSet(args)) {
            arity(args, 3, 3, "set");
            try {
                entry = Entry.of(args.get(1).bytes(), Files.readAllBytes(Path.of(args.get(2).text())));
            } catch (IOException e) {
                throw new UsageException("cannot read " + args.get(2).text() + ": " + ErrorWords.reason(e));
            }
        } else {
            arity(args, 2, 3, "set");
            entry = Entry.of(args.get(0).bytes(), args.get(1).bytes());
            if (args.size() == 3) {
                String ttl = args.get(2).text();
                if (args.get(2).quoted() || !ttl.startsWith("ttl=")) {
                    throw new UsageException("the third word of set must be ttl=DURATION, not " + ttl);
                }
                entry = entry.withTtl(duration(ttl.substring(4)));
            }
        }
        if (txn != null) {
            requireWritableTransaction("set");
            txn.set(entry);
        } else if (batchSize > 1 && !isFileSet(args)) {
            pendingSets.set(entry);
            if (pendingSets.size() >= batchSize) {
                flushSets();
            }
        } else {
            db.set(entry);
        }
        acknowledge("OK");
    }

    private void get(List<Tokenizer.Word> args) throws UsageException {
        List<Tokenizer.Word> key = args.stream().filter(w -> !(w.isOption() && w.text().equals("--hex"))).toList();
        arity(key, 1, 1, "get");
        byte[] value = txn != null ? txn.get(key.get(0).bytes()) : db.get(key.get(0).bytes());
        out.println(value == null ? "(nil)" : show(value, key.size() < args.size()));
    }

    private void del(List<Tokenizer.Word> args) throws UsageException {
        arity(args, 1, 1, "del");
        if (txn != null) {
            requireWritableTransaction("del");
            txn.delete(args.get(0).bytes());
        } else {
            db.delete(args.get(0).bytes());
        }
        acknowledge("OK");
    }

    /**
     * The words of a scan or count: PREFIX or FROM TO (with --inclusive), --limit N, --reverse,
     * --keys-only, --hex. Bounds are null where not given.
     */
    record ScanWords(byte[] prefix, byte[] from, byte[] to, boolean inclusive, int limit, boolean limitGiven,
            boolean reverse, boolean keysOnly, boolean hex) {

        static ScanWords parse(List<Tokenizer.Word> args, boolean countOnly) throws UsageException {
            List<Tokenizer.Word> positional = new ArrayList<>();
            int limit = countOnly ? Integer.MAX_VALUE : DEFAULT_SCAN_LIMIT;
            boolean limitGiven = false;
            boolean reverse = false;
            boolean keysOnly = false;
            boolean inclusive = false;
            boolean hex = false;
            for (int i = 0; i < args.size(); i++) {
                Tokenizer.Word w = args.get(i);
                if (!w.isOption()) {
                    positional.add(w);
                    continue;
                }
                switch (w.text()) {
                    case "--limit" -> {
                        if (i + 1 >= args.size()) {
                            throw new UsageException("--limit needs a number");
                        }
                        limit = positiveInt(args.get(++i).text(), "--limit");
                        limitGiven = true;
                    }
                    case "--reverse" -> reverse = true;
                    case "--keys-only" -> keysOnly = true;
                    case "--inclusive" -> inclusive = true;
                    case "--hex" -> hex = true;
                    default -> throw new UsageException("unknown option " + w.text() + " for " + (countOnly ? "count" : "scan"));
                }
            }
            if (inclusive && positional.size() != 2) {
                throw new UsageException("--inclusive needs FROM TO (it includes TO in the range)");
            }
            if (positional.size() > 2) {
                throw new UsageException("usage: " + COMMANDS.get(countOnly ? "count" : "scan").usage());
            }
            return new ScanWords(positional.size() == 1 ? positional.get(0).bytes() : null,
                    positional.size() == 2 ? positional.get(0).bytes() : null,
                    positional.size() == 2 ? positional.get(1).bytes() : null,
                    inclusive, limit, limitGiven, reverse, keysOnly, hex);
        }

        IteratorOptions options() {
            IteratorOptions options = reverse ? IteratorOptions.reverse() : IteratorOptions.forward();
            if (prefix != null) {
                options.prefix(prefix);
            }
            if (from != null) {
                options.from(from);
                if (inclusive) {
                    options.toInclusive(to);
                } else {
                    options.to(to);
                }
            }
            return options;
        }

        /** Prints one row of the scan. */
        String row(byte[] key, byte[] value) {
            return keysOnly ? show(key, hex) : show(key, hex) + " = " + show(value, hex);
        }
    }

    private void scan(List<Tokenizer.Word> args, boolean countOnly) throws UsageException {
        ScanWords scan = ScanWords.parse(args, countOnly);
        long shown = 0;
        try (DbIterator it = txn != null ? txn.iterator(scan.options()) : db.iterator(scan.options())) {
            for (it.seekToFirst(); it.valid() && !cancelled.getAsBoolean(); it.next()) {
                if (shown == scan.limit()) {
                    out.println("... more keys (use --limit N to see more)");
                    break;
                }
                shown++;
                if (!countOnly) {
                    out.println(scan.row(it.key(), it.value()));
                }
            }
        }
        if (countOnly) {
            out.println(shown);
        } else if (shown == 0 && !scan.limitGiven()) {
            out.println("(no keys)");
        }
    }

    static String show(byte[] bytes, boolean hex) {
        return hex ? Display.hex(bytes) : Display.quote(bytes);
    }

    private void begin(List<Tokenizer.Word> args, String where) throws UsageException {
        arity(args, 0, 1, "begin");
        boolean readOnly = args.size() == 1 && args.get(0).text().equals("--read-only");
        if (args.size() == 1 && !readOnly) {
            throw new UsageException("usage: " + COMMANDS.get("begin").usage());
        }
        if (txn != null) {
            throw new UsageException("a transaction is already open (commit or rollback first)");
        }
        txn = db.newTransaction(!readOnly);
        txnBegunAt = where;
        acknowledge("BEGIN" + (readOnly ? " (read-only)" : ""));
    }

    private void commit(List<Tokenizer.Word> args) throws UsageException {
        arity(args, 0, 0, "commit");
        requireTransaction();
        Transaction committing = txn;
        txn = null;
        txnBegunAt = null;
        long version = committing.commit();
        acknowledge("COMMIT (version " + version + ")");
    }

    private void rollback(List<Tokenizer.Word> args) throws UsageException {
        arity(args, 0, 0, "rollback");
        requireTransaction();
        txn.discard();
        txn = null;
        txnBegunAt = null;
        acknowledge("ROLLBACK");
    }

    private void requireWritableTransaction(String command) throws UsageException {
        if (txn.isReadOnly()) {
            throw new UsageException("inside `begin --read-only`, " + command + " is not allowed; use `begin` for a "
                    + "transaction that writes");
        }
    }

    private void requireTransaction() throws UsageException {
        if (txn == null) {
            throw new UsageException("no transaction is open (begin first)");
        }
    }

    private void stats(List<Tokenizer.Word> args) throws UsageException {
        arity(args, 0, 0, "stats");
        out.print(db.stats().format());
    }

    private void compact(List<Tokenizer.Word> args) throws UsageException {
        arity(args, 0, 0, "compact");
        db.flatten();
        acknowledge("OK");
    }

    private void gc(List<Tokenizer.Word> args) throws UsageException {
        arity(args, 0, 1, "gc");
        double ratio = 0.5;
        if (args.size() == 1) {
            try {
                ratio = Double.parseDouble(args.get(0).text());
            } catch (NumberFormatException e) {
                throw new UsageException("gc ratio must be a number in (0, 1]: " + args.get(0).text());
            }
        }
        ValueLogGcReport report = db.runValueLogGC(ratio);
        out.print(report.format());
    }

    /**
     * Writes a checkpoint of the committed state (an open transaction's pending writes are not in
     * it) and prints its version and directory, whatever the output mode: it shows something.
     */
    private void checkpoint(List<Tokenizer.Word> args) throws UsageException {
        arity(args, 1, 1, "checkpoint");
        Path target = Path.of(args.get(0).text());
        long version = db.checkpoint(target);
        out.println("checkpoint of version " + version + " written to " + target);
    }

    private void source(List<Tokenizer.Word> args) throws UsageException {
        arity(args, 1, 1, "source");
        Path file = Path.of(args.get(0).text());
        if (sourceDepth == MAX_SOURCE_DEPTH) {
            throw new SourceTooDeep("source nests deeper than " + MAX_SOURCE_DEPTH + " files (at " + file
                    + "; does a file source itself?); nothing after it ran");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + ": " + ErrorWords.reason(e));
        }
        int failures = 0;
        sourceDepth++;
        try {
            for (int i = 0; i < lines.size(); i++) {
                if (!execute(lines.get(i), file + ":" + (i + 1))) {
                    failures++;
                }
            }
        } catch (SourceTooDeep e) {
            if (sourceDepth > 1) {
                throw e;
            }
            throw new UsageException(e.getMessage());
        } finally {
            sourceDepth--;
        }
        flushSets();
        if (failures > 0) {
            throw new UsageException(failures + " command(s) in " + file + " failed");
        }
    }

    private void help(List<Tokenizer.Word> args) throws UsageException {
        arity(args, 0, 1, "help");
        if (args.size() == 1) {
            Help h = COMMANDS.get(args.get(0).text().toLowerCase(Locale.ROOT));
            if (h == null) {
                throw new UsageException("no command " + args.get(0).text());
            }
            out.println(h.usage());
            out.println("  " + h.description());
            return;
        }
        int width = COMMANDS.values().stream().mapToInt(h -> h.usage().length()).max().orElse(0);
        for (Help h : COMMANDS.values()) {
            out.printf(Locale.ROOT, "  %-" + width + "s %s%n", h.usage(), h.description());
        }
        out.println("Keys and values: plain words, \"quoted strings\" with \\n \\t \\\" \\\\ \\xNN escapes, or 0x hex.");
        out.println("Output is in the same syntax (paste it back to mean the same bytes): text as text, \\xNN only for");
        out.println("bytes that are not printable UTF-8; get and scan take --hex to show binary data as 0x hex.");
        out.println("Batch mode (--file SCRIPT or piped input) prints results (get, scan, count, stats, gc, help) and");
        out.println("errors only; --echo also prints each command and its OK/BEGIN/COMMIT/ROLLBACK, as the interactive prompt does.");
        out.println("A script that ends or exits inside begin fails (exit 1) and its transaction is rolled back.");
    }

    static void arity(List<Tokenizer.Word> args, int min, int max, String command) throws UsageException {
        if (args.size() < min || args.size() > max) {
            throw new UsageException("usage: " + COMMANDS.get(command).usage());
        }
    }

    static int positiveInt(String text, String what) throws UsageException {
        try {
            int value = Integer.parseInt(text);
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(what + " needs a positive number, not " + text);
    }

    /**
     * A TTL as typed ({@code 30s, 5m, 2h, 1d}, or ISO-8601 like {@code PT90S}).
     *
     * @throws UsageException, in shell terms, if it is not a duration, shorter than 1 s or longer
     *         than {@link Entry#MAX_TTL}
     */
    static Duration duration(String text) throws UsageException {
        Duration ttl;
        try {
            if (text.startsWith("P") || text.startsWith("p")) {
                ttl = Duration.parse(text);
            } else {
                long amount = Long.parseLong(text.substring(0, text.length() - 1));
                ttl = switch (Character.toLowerCase(text.charAt(text.length() - 1))) {
                    case 's' -> Duration.ofSeconds(amount);
                    case 'm' -> Duration.ofMinutes(amount);
                    case 'h' -> Duration.ofHours(amount);
                    case 'd' -> Duration.ofDays(amount);
                    default -> throw new UsageException("bad duration " + text + " (use 30s, 5m, 2h, 1d)");
                };
            }
        } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
            throw new UsageException("bad duration " + text + " (use 30s, 5m, 2h, 1d)");
        } catch (ArithmeticException e) {
            throw new UsageException("ttl must be at most " + Entry.MAX_TTL.toDays() + "d, got " + text);
        }
        if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new UsageException("ttl must be at least 1s, got " + text);
        }
        if (ttl.compareTo(Entry.MAX_TTL) > 0) {
            throw new UsageException("ttl must be at most " + Entry.MAX_TTL.toDays() + "d, got " + text);
        }
        return ttl;
    }

    /** Ends an open transaction (discarding it) and writes grouped sets. */
    @Override
    public void close() {
        if (txn != null) {
            txn.discard();
            txn = null;
            txnBegunAt = null;
        }
        flushSets();
    }

    /** A command used wrongly; its message is the whole story. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
