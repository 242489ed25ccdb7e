package io.trainkv.shell;

import io.trainkv.ConflictException;
import io.trainkv.Entry;
import io.trainkv.TrainKVException;
import io.trainkv.WriteBatch;
import io.trainkv.shell.CommandInterpreter.ScanWords;
import io.trainkv.shell.CommandInterpreter.UsageException;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The shell's commands against a replicated cluster ({@code trainkv shell --cluster}): set, get,
 * del, scan, count, begin/commit/rollback, help, exit, in the same syntax and output as against a
 * local database. Commands that act on one machine's files (stats, compact, gc, source) are not
 * offered: run them with the local shell on a stopped member's directory. Transactions are the
 * cluster's optimistic ones, validated when committed.
 */
final class ClusterInterpreter extends LineInterpreter {

    /** The commands offered here, all with the local shell's syntax. */
    static final Set<String> OFFERED = Set.of("set", "get", "del", "scan", "count", "begin", "commit", "rollback",
            "help", "exit");

    private final ClusterStore cluster;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean acknowledge;
    private ClusterStore.Transaction txn;
    private String txnBegunAt;

    /** @param acknowledge print OK/BEGIN/COMMIT/ROLLBACK (interactive and --echo) */
    ClusterInterpreter(ClusterStore cluster, PrintWriter out, PrintWriter err, boolean acknowledge) {
        this.cluster = cluster;
        this.out = out;
        this.err = err;
        this.acknowledge = acknowledge;
    }

    @Override
    boolean run(String name, List<Tokenizer.Word> args, String where) {
        String command = name.toLowerCase(Locale.ROOT);
        try {
            switch (command) {
                case "set" -> set(args);
                case "get" -> get(args);
                case "del" -> del(args);
                case "scan" -> scan(args, false);
                case "count" -> scan(args, true);
                case "begin" -> begin(args, where);
                case "commit" -> commit(args);
                case "rollback" -> rollback(args);
                case "help" -> help();
                case "exit", "quit" -> throw new CommandInterpreter.ExitRequested();
                default -> throw new UsageException(CommandInterpreter.COMMANDS.containsKey(command)
                        ? command + " acts on one machine's files and is not offered against a cluster (try help)"
                        : "unknown command '" + name + "' (try help)");
            }
            return true;
        } catch (UsageException | IllegalArgumentException | IllegalStateException e) {
            return fail(where, e.getMessage());
        } catch (ConflictException e) {
            return fail(where, "conflict: " + e.getMessage() + "; the transaction was rolled back");
        } catch (TrainKVException e) {
            return fail(where, ErrorWords.of(e));
        }
    }

    private void ack(String text) {
        if (acknowledge) {
            out.println(text);
        }
    }

    private void set(List<Tokenizer.Word> args) throws UsageException {
        CommandInterpreter.arity(args, 2, 3, "set");
        Entry entry = Entry.of(args.get(0).bytes(), args.get(1).bytes());
        if (args.size() == 3) {
            String ttl = args.get(2).text();
            if (args.get(2).quoted() || !ttl.startsWith("ttl=")) {
                throw new UsageException("the third word of set must be ttl=DURATION, not " + ttl);
            }
            entry = entry.withTtl(CommandInterpreter.duration(ttl.substring(4)));
        }
        if (txn != null) {
            txn.set(entry);
        } else {
            cluster.write(new WriteBatch().set(entry));
        }
        ack("OK");
    }

    private void get(List<Tokenizer.Word> args) throws UsageException {
        List<Tokenizer.Word> key = args.stream().filter(w -> !(w.isOption() && w.text().equals("--hex"))).toList();
        CommandInterpreter.arity(key, 1, 1, "get");
        Entry entry = txn != null ? txn.get(key.get(0).bytes()) : cluster.get(key.get(0).bytes());
        out.println(entry == null ? "(nil)" : CommandInterpreter.show(entry.value(), key.size() < args.size()));
    }

    private void del(List<Tokenizer.Word> args) throws UsageException {
        CommandInterpreter.arity(args, 1, 1, "del");
        if (txn != null) {
            txn.delete(args.get(0).bytes());
        } else {
            cluster.write(new WriteBatch().delete(args.get(0).bytes()));
        }
        ack("OK");
    }

    private void scan(List<Tokenizer.Word> args, boolean countOnly) throws UsageException {
        ScanWords scan = ScanWords.parse(args, countOnly);
        byte[] to = scan.to() != null && scan.inclusive() ? Arrays.copyOf(scan.to(), scan.to().length + 1) : scan.to();
        int fetch = scan.limit() == Integer.MAX_VALUE ? Integer.MAX_VALUE : scan.limit() + 1;
        List<Entry> entries = txn != null ? txn.scan(scan.prefix(), scan.from(), to, scan.reverse(), fetch)
                : cluster.scan(scan.prefix(), scan.from(), to, scan.reverse(), fetch);
        long shown = Math.min(entries.size(), scan.limit());
        if (countOnly) {
            out.println(shown);
            return;
        }
        for (int i = 0; i < shown; i++) {
            out.println(scan.row(entries.get(i).key(), entries.get(i).value()));
        }
        if (entries.size() > shown) {
            out.println("... more keys (use --limit N to see more)");
        } else if (shown == 0 && !scan.limitGiven()) {
            out.println("(no keys)");
        }
    }

    private void begin(List<Tokenizer.Word> args, String where) throws UsageException {
        CommandInterpreter.arity(args, 0, 0, "begin");
        if (txn != null) {
            throw new UsageException("a transaction is already open (commit or rollback first)");
        }
        txn = cluster.begin();
        txnBegunAt = where;
        ack("BEGIN");
    }

    private void commit(List<Tokenizer.Word> args) throws UsageException {
        CommandInterpreter.arity(args, 0, 0, "commit");
        if (txn == null) {
            throw new UsageException("no transaction is open (begin first)");
        }
        ClusterStore.Transaction committing = txn;
        txn = null;
        txnBegunAt = null;
        long index = committing.commit();
        ack("COMMIT (log index " + index + ")");
    }

    private void rollback(List<Tokenizer.Word> args) throws UsageException {
        CommandInterpreter.arity(args, 0, 0, "rollback");
        if (txn == null) {
            throw new UsageException("no transaction is open (begin first)");
        }
        txn.discard();
        txn = null;
        txnBegunAt = null;
        ack("ROLLBACK");
    }

    private void help() {
        for (String name : CommandInterpreter.COMMANDS.keySet()) {
            if (OFFERED.contains(name)) {
                out.printf(Locale.ROOT, "  %s%n      %s%n", CommandInterpreter.COMMANDS.get(name).usage(),
                        CommandInterpreter.COMMANDS.get(name).description());
            }
        }
        out.println("Connected to a cluster: reads are linearizable, transactions are validated when committed;");
        out.println("stats, compact, gc and source act on one machine and are not offered here.");
    }

    @Override
    boolean inTransaction() {
        return txn != null;
    }

    @Override
    String transactionBegunAt() {
        return txnBegunAt;
    }

    @Override
    PrintWriter errors() {
        return err;
    }

    @Override
    public void close() {
        if (txn != null) {
            txn.discard();
            txn = null;
            txnBegunAt = null;
        }
        cluster.close();
    }
}
