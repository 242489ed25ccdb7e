package io.trainkv.crash;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The expected-state crash test. Each cycle runs a random slice of {@link CrashWorkload}, then
 * crashes, reopens and checks that the database equals the model after some prefix of the
 * operations that contains every operation acknowledged as durable: losing an unsynced tail is
 * allowed; a hole, a resurrected delete, a torn or wrong value, an exception or a failed open is
 * not. Cycles chain: each starts from the state the previous crash left.
 *
 * <ul>
 *   <li>Simulated: the database runs on a {@link SimulatedDisk}. A {@link Schedule#SINGLE} cycle
 *       ends in a power cut: synced bytes and directory entries stay, the rest is dropped, kept,
 *       torn or garbled. A {@link Schedule#DOUBLE} cycle ends in a process kill (every written
 *       byte stays, nothing is synced that was not), a reopen whose recovery runs, possibly more
 *       operations, and a power cut before a random mutating storage operation of that recovery
 *       (its manifest rewrite, WAL cut, replayed-memtable flush) or of the operations after it.
 *       What the second open acknowledged as durable before the cut must survive as well.</li>
 *   <li>Process: a child JVM runs the workload on a real directory and is killed with SIGKILL
 *       ({@code destroyForcibly}) after a random number of acknowledgements; since the OS keeps
 *       written data, every acknowledged operation must survive. A {@link Schedule#DOUBLE} cycle
 *       then starts a second child that only opens the database and kills it a random time into
 *       its recovery (a real directory cannot lose unsynced bytes, so the second crash is a kill
 *       too).</li>
 * </ul>
 * Each open maps files or reads them with positional reads as {@link Mmap} says (the simulated
 * disk hands out mappings as copies of the bytes). Run by hand: {@code scripts/crashtest}. Failures
 * print the seed and cycle; background threads (flush, compaction) interleave with the workload,
 * so a rerun of the seed repeats the operations and crash points but not always the exact timing.
 */
public final class CrashTest {

    /** What a run did. */
    public record Result(int cycles, List<String> failures) {
    }

    /** Which crashes end a cycle. */
    public enum Schedule {
        /** Simulated: one power cut. Process: one SIGKILL. */
        SINGLE,
        /** Simulated: a process kill, then a power cut in or after the recovery. Process: two SIGKILLs, the second in recovery. */
        DOUBLE,
        /** Each cycle draws one of the two. */
        MIXED;

        boolean isDouble(Random random) {
            return this == DOUBLE || (this == MIXED && random.nextBoolean());
        }
    }

    /** Whether opens memory-map tables and sealed value-log files. */
    public enum Mmap {
        ON, OFF,
        /** Each open draws. */
        MIXED;

        boolean draw(Random random) {
            return this == ON || (this == MIXED && random.nextBoolean());
        }
    }

    private CrashTest() {
    }

    static Options options(SimulatedDisk disk) {
        return small(Options.inTempDirectory().storage(disk));
    }

    /**
     * Sizes that make every mechanism run within a few hundred operations: 64 KiB memtables and
     * value-log files (the smallest allowed, so GC has files to collect), 1 KiB value threshold,
     * no automatic GC (the workload runs it).
     */
    static Options small(Options options) {
        return options.memtableSize(64 * 1024).baseLevelSize(64 * 1024).levelSizeMultiplier(4)
                .targetFileSize(32 * 1024).blockSize(1024).valueThreshold(1024).valueLogFileSize(64 * 1024)
                .gcInterval(Duration.ZERO);
    }

    /**
     * Runs {@code cycles} simulated crash cycles of up to {@code maxOpsPerCycle} operations;
     * stops at the first failure.
     */
    public static Result simulated(long seed, int cycles, int maxOpsPerCycle, Schedule schedule, Mmap mmap,
                                   PrintStream out) {
        Random random = new Random(seed);
        SimulatedDisk disk = new SimulatedDisk();
        Map<String, byte[]> base = new HashMap<>();
        TrainKV db = TrainKV.open(options(disk).mmap(mmap.draw(random)));
        List<String> failures = new ArrayList<>();
        int cycle = 0;
        try {
            for (; cycle < cycles; cycle++) {
                long cycleSeed = random.nextLong();
                Random cycleRandom = new Random(cycleSeed);
                CrashWorkload workload = new CrashWorkload(cycleSeed);
                boolean twoCrashes = schedule.isDouble(cycleRandom);
                int count = 1 + cycleRandom.nextInt(maxOpsPerCycle);
                Session session = new Session();
                String context = "seed " + seed + ", cycle " + cycle + " (cycle seed " + cycleSeed + ", "
                        + (twoCrashes ? "process kill then power cut" : "power cut") + ", " + count + " operations";
                String failure = session.run(db, workload, count, null);
                SimulatedDisk crashed;
                if (!twoCrashes) {
                    crashed = disk.crash(cycleRandom);
                    closeQuietly(db);
                    db = null;
                } else {
                    SimulatedDisk killed = disk.processKill();
                    closeQuietly(db);
                    db = null;
                    long cutAfter = cycleRandom.nextInt(1 << cycleRandom.nextInt(10));
                    killed.powerCutAfter(cutAfter, new Random(cycleRandom.nextLong()));
                    boolean reopenMapped = mmap.draw(cycleRandom);
                    int more = cycleRandom.nextInt(maxOpsPerCycle / 4 + 1);
                    context += ", then " + more + " after the reopen" + (reopenMapped ? " (mmap)" : " (no mmap)")
                            + ", power cut before its mutating storage operation " + cutAfter;
                    if (failure == null) {
                        failure = session.reopenAndCut(killed, reopenMapped, workload, more);
                    }
                    context += session.cutWhere;
                    crashed = killed.powerCutState();
                }
                boolean verifyMapped = mmap.draw(cycleRandom);
                context += ", last durable " + session.lastDurable + ", verified" + (verifyMapped ? " with" : " without")
                        + " mmap)";
                if (failure != null) {
                    failures.add(context + ": " + failure);
                    break;
                }
                try {
                    db = TrainKV.open(options(crashed).mmap(verifyMapped));
                    Map<String, byte[]> state = CrashWorkload.readAll(db);
                    Map<String, byte[]> matched = matchPrefix(base, session.ops, session.lastDurable, state);
                    if (matched == null) {
                        failures.add(context + ": no allowed prefix matches; against all operations: "
                                + CrashWorkload.describeDifference(modelAfter(base, session.ops, session.ops.size() - 1),
                                state));
                        break;
                    }
                    base = matched;
                    disk = crashed;
                } catch (RuntimeException | AssertionError e) {
                    failures.add(context + ": " + e);
                    break;
                }
                if (out != null && (cycle + 1) % 100 == 0) {
                    out.println("simulated crash cycles done: " + (cycle + 1));
                }
            }
        } finally {
            if (db != null) {
                closeQuietly(db);
            }
        }
        return new Result(failures.isEmpty() ? cycle : cycle + 1, failures);
    }

    /**
     * The operations of one simulated cycle, across both opens of a {@link Schedule#DOUBLE}
     * cycle, and the last one acknowledged as durable before the crash that counts.
     */
    private static final class Session {
        final List<CrashWorkload.Op> ops = new ArrayList<>();
        int lastDurable = -1;
        String cutWhere = "";

        /**
         * Runs up to {@code count} operations, stopping early once {@code disk}'s armed power cut
         * has happened (null: none armed). An operation counts as acknowledged before the cut
         * only if it returned before the cut was taken. Returns a failure, or null.
         */
        String run(TrainKV db, CrashWorkload workload, int count, SimulatedDisk disk) {
            for (int i = 0; i < count && (disk == null || !disk.powerCutTaken()); i++) {
                CrashWorkload.Op op = workload.next();
                ops.add(op);
                try {
                    CrashWorkload.apply(db, op);
                } catch (RuntimeException e) {
                    return "operation " + (ops.size() - 1) + " (" + describe(op) + ") threw " + e;
                }
                if (op.isDurabilityPoint() && (disk == null || !disk.powerCutTaken())) {
                    lastDurable = ops.size() - 1;
                }
            }
            return null;
        }

        /**
         * Opens the killed disk (the recovery must succeed: a process kill loses nothing), runs
         * {@code more} operations unless the armed power cut has already happened, and closes the
         * instance the cut left behind. Returns a failure, or null.
         */
        String reopenAndCut(SimulatedDisk killed, boolean mapped, CrashWorkload workload, int more) {
            long before = killed.operations();
            TrainKV recovered;
            try {
                recovered = TrainKV.open(options(killed).mmap(mapped));
            } catch (RuntimeException e) {
                return "the reopen after the process kill failed: " + e;
            }
            long openOperations = killed.operations() - before;
            cutWhere = killed.powerCutTaken() ? " (during the open, which performed " + openOperations + ")"
                    : " (after the open, which performed " + openOperations + ")";
            try {
                return run(recovered, workload, more, killed);
            } finally {
                closeQuietly(recovered);
            }
        }
    }

    private static String describe(CrashWorkload.Op op) {
        if (op.maintenance() != CrashWorkload.Maintenance.NONE) {
            return op.maintenance().name().toLowerCase(Locale.ROOT);
        }
        return op.changes().size() + " changes" + (op.sync() ? ", synced" : "") + (op.transaction() ? ", transaction" : "");
    }

    /**
     * The model after the shortest prefix of {@code ops} that contains operation
     * {@code lastDurable} and equals {@code state}, or null if none does.
     */
    static Map<String, byte[]> matchPrefix(Map<String, byte[]> base, List<CrashWorkload.Op> ops, int lastDurable,
                                           Map<String, byte[]> state) {
        Map<String, byte[]> model = new HashMap<>(base);
        for (int i = 0; i <= lastDurable; i++) {
            CrashWorkload.applyToModel(model, ops.get(i));
        }
        if (CrashWorkload.sameState(model, state)) {
            return model;
        }
        for (int i = lastDurable + 1; i < ops.size(); i++) {
            CrashWorkload.applyToModel(model, ops.get(i));
            if (CrashWorkload.sameState(model, state)) {
                return model;
            }
        }
        return null;
    }

    private static Map<String, byte[]> modelAfter(Map<String, byte[]> base, List<CrashWorkload.Op> ops, int last) {
        Map<String, byte[]> model = new HashMap<>(base);
        for (int i = 0; i <= last; i++) {
            CrashWorkload.applyToModel(model, ops.get(i));
        }
        return model;
    }

    /**
     * Runs {@code cycles} SIGKILL cycles of child JVMs working on {@code dir}; stops at the first
     * failure. A {@link Schedule#DOUBLE} cycle kills a second child a random time (up to 300 ms)
     * after it starts opening the database.
     */
    public static Result process(long seed, int cycles, int maxOpsPerCycle, Schedule schedule, Mmap mmap, Path dir,
                                 PrintStream out) throws IOException, InterruptedException {
        Random random = new Random(seed);
        Map<String, byte[]> base = new HashMap<>();
        List<String> failures = new ArrayList<>();
        int cycle = 0;
        for (; cycle < cycles; cycle++) {
            long cycleSeed = random.nextLong();
            Random cycleRandom = new Random(cycleSeed);
            int count = 1 + cycleRandom.nextInt(maxOpsPerCycle);
            int killAfter = cycleRandom.nextInt(count + 1);
            boolean mapped = mmap.draw(cycleRandom);
            boolean twoKills = schedule.isDouble(cycleRandom);
            long recoveryKillMillis = cycleRandom.nextInt(300);
            boolean verifyMapped = mmap.draw(cycleRandom);
            String context = "seed " + seed + ", cycle " + cycle + " (cycle seed " + cycleSeed + ", "
                    + (mapped ? "mmap" : "no mmap");
            int acked;
            try {
                acked = runChild(dir, cycleSeed, count, mapped, killAfter, -1);
                context += ", killed after " + (acked + 1) + " of " + count + " acknowledgements";
                if (twoKills) {
                    boolean reopenMapped = mmap.draw(cycleRandom);
                    runChild(dir, cycleSeed, 0, reopenMapped, 0, recoveryKillMillis);
                    context += ", then a reopen " + (reopenMapped ? "with" : "without") + " mmap killed "
                            + recoveryKillMillis + " ms into its recovery";
                }
            } catch (IllegalStateException e) {
                failures.add(context + "): " + e.getMessage());
                break;
            }
            context += ", verified " + (verifyMapped ? "with" : "without") + " mmap)";
            CrashWorkload workload = new CrashWorkload(cycleSeed);
            List<CrashWorkload.Op> ops = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ops.add(workload.next());
            }
            try (TrainKV db = TrainKV.open(small(Options.at(dir)).mmap(verifyMapped))) {
                Map<String, byte[]> state = CrashWorkload.readAll(db);
                Map<String, byte[]> matched = matchPrefix(base, ops, acked, state);
                if (matched == null) {
                    failures.add(context + ": no allowed prefix matches: "
                            + CrashWorkload.describeDifference(modelAfter(base, ops, Math.max(acked, 0)), state));
                    break;
                }
                base = matched;
            } catch (RuntimeException | AssertionError e) {
                failures.add(context + ": " + e);
                break;
            }
            if (out != null && (cycle + 1) % 10 == 0) {
                out.println("process crash cycles done: " + (cycle + 1));
            }
        }
        return new Result(failures.isEmpty() ? cycle : cycle + 1, failures);
    }

    /**
     * Runs a {@link CrashChildMain} and kills it after {@code killAfter} acknowledgements, or, if
     * {@code killAfterMillis} is not negative, that long after it reports that it is opening the
     * database. Returns the index of the last acknowledged operation (-1: none).
     *
     * @throws IllegalStateException if the child does not die
     */
    private static int runChild(Path dir, long seed, int count, boolean mapped, int killAfter, long killAfterMillis)
            throws IOException, InterruptedException {
        Process child = new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator
                + "java", "-Xmx256m", "-cp", System.getProperty("java.class.path"), CrashChildMain.class.getName(),
                dir.toString(), Long.toString(seed), Integer.toString(count), Boolean.toString(mapped))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        int acked = -1;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            if (killAfterMillis >= 0) {
                while ((line = lines.readLine()) != null && !line.equals(CrashChildMain.OPENING)) {
                    // the JVM is starting
                }
                Thread.sleep(killAfterMillis);
            } else {
                while (acked < killAfter - 1 && (line = lines.readLine()) != null) {
                    if (line.startsWith("ack ")) {
                        acked = Integer.parseInt(line.substring("ack ".length()));
                    }
                }
            }
            child.destroyForcibly();
            if (!child.waitFor(2, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the child did not die");
            }
        }
        return acked;
    }

    static void closeQuietly(TrainKV db) {
        try {
            db.close();
        } catch (RuntimeException e) {
            // the crashed instance may be in a failed state; only the reopened one matters
        }
    }

    /**
     * {@code CrashTest [--cycles N] [--seed S] [--process] [--ops N] [--dir DIR]
     * [--schedule single|double|mixed] [--double-crash] [--mmap on|off|mixed]}: exits 0 if every
     * cycle passed, 1 if one failed, 2 on a usage error.
     */
    public static void main(String[] args) throws Exception {
        int cycles = 100;
        long seed = System.nanoTime();
        boolean processMode = false;
        int ops = 200;
        Path dir = null;
        Schedule schedule = Schedule.MIXED;
        Mmap mmap = Mmap.MIXED;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--cycles" -> cycles = Integer.parseInt(args[++i]);
                    case "--seed" -> seed = Long.parseLong(args[++i]);
                    case "--process" -> processMode = true;
                    case "--ops" -> ops = Integer.parseInt(args[++i]);
                    case "--dir" -> dir = Path.of(args[++i]);
                    case "--schedule" -> schedule = Schedule.valueOf(args[++i].toUpperCase(Locale.ROOT));
                    case "--double-crash" -> schedule = Schedule.DOUBLE;
                    case "--mmap" -> mmap = Mmap.valueOf(args[++i].toUpperCase(Locale.ROOT));
                    default -> throw new IllegalArgumentException(args[i]);
                }
            }
        } catch (RuntimeException e) {
            System.err.println("usage: crashtest [--cycles N] [--seed S] [--process] [--ops N] [--dir DIR]"
                    + " [--schedule single|double|mixed] [--double-crash] [--mmap on|off|mixed]");
            System.exit(2);
        }
        EngineLogs.silence();
        System.out.println((processMode ? "process" : "simulated") + " crash test, seed " + seed + ", " + cycles
                + " cycles of up to " + ops + " operations, schedule " + schedule.name().toLowerCase(Locale.ROOT)
                + ", mmap " + mmap.name().toLowerCase(Locale.ROOT));
        Result result;
        if (processMode) {
            Path directory = dir != null ? dir : Files.createTempDirectory("trainkv-crashtest-");
            result = process(seed, cycles, ops, schedule, mmap, directory, System.out);
        } else {
            result = simulated(seed, cycles, ops, schedule, mmap, System.out);
        }
        System.out.println("cycles done: " + result.cycles() + ", failures: " + result.failures().size());
        for (String failure : result.failures()) {
            System.out.println("FAILURE " + failure);
        }
        System.exit(result.failures().isEmpty() ? 0 : 1);
    }
}
