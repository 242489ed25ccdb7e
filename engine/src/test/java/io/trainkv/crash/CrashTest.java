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
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The expected-state crash test. Each cycle runs a random slice of {@link CrashWorkload}, then
 * crashes, reopens and checks that the database equals the model after some prefix of the
 * operations that contains every operation acknowledged as durable: losing an unsynced tail is
 * allowed; a hole, a resurrected delete, a torn or wrong value, or a failed open is not. Cycles
 * chain: each starts from the state the previous crash left.
 *
 * <ul>
 *   <li>Simulated: the database runs on a {@link SimulatedDisk}; a crash keeps synced bytes and
 *       directory entries and drops, keeps, tears or garbles the rest, as a power cut may.</li>
 *   <li>Process: a child JVM runs the workload on a real directory and is killed with SIGKILL
 *       ({@code destroyForcibly}) after a random number of acknowledgements; since the OS keeps
 *       written data, every acknowledged operation must survive.</li>
 * </ul>
 * Run by hand: {@code scripts/crashtest --cycles N --seed S [--process]}. Failures print the seed
 * and cycle that reproduce them.
 */
public final class CrashTest {

    /** What a run did. */
    public record Result(int cycles, List<String> failures) {
    }

    private CrashTest() {
    }

    static Options options(SimulatedDisk disk) {
        return small(Options.inTempDirectory().storage(disk));
    }

    static Options small(Options options) {
        return options.memtableSize(64 * 1024).baseLevelSize(64 * 1024).levelSizeMultiplier(4)
                .targetFileSize(32 * 1024).blockSize(1024).valueThreshold(1024).valueLogFileSize(128 * 1024)
                .gcInterval(Duration.ZERO);
    }

    /** Runs {@code cycles} simulated power cuts; stops at the first failure. */
    public static Result simulated(long seed, int cycles, int maxOpsPerCycle, PrintStream out) {
        Random random = new Random(seed);
        SimulatedDisk disk = new SimulatedDisk();
        Map<String, byte[]> base = new HashMap<>();
        TrainKV db = TrainKV.open(options(disk));
        List<String> failures = new ArrayList<>();
        int cycle = 0;
        try {
            for (; cycle < cycles; cycle++) {
                long cycleSeed = random.nextLong();
                CrashWorkload workload = new CrashWorkload(cycleSeed);
                List<CrashWorkload.Op> ops = new ArrayList<>();
                int count = 1 + random.nextInt(maxOpsPerCycle);
                int lastDurable = -1;
                for (int i = 0; i < count; i++) {
                    CrashWorkload.Op op = workload.next();
                    CrashWorkload.apply(db, op);
                    ops.add(op);
                    if (op.isDurabilityPoint()) {
                        lastDurable = i;
                    }
                }
                SimulatedDisk crashed = disk.crash(new Random(cycleSeed));
                closeQuietly(db);
                db = null;
                String context = "seed " + seed + ", cycle " + cycle + " (cycle seed " + cycleSeed + ", " + count
                        + " operations, last durable " + lastDurable + ")";
                try {
                    db = TrainKV.open(options(crashed));
                    Map<String, byte[]> state = CrashWorkload.readAll(db);
                    Map<String, byte[]> matched = matchPrefix(base, ops, lastDurable, state);
                    if (matched == null) {
                        failures.add(context + ": no allowed prefix matches; against all operations: "
                                + CrashWorkload.describeDifference(modelAfter(base, ops, ops.size() - 1), state));
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

    /** Runs {@code cycles} SIGKILLs of a child JVM working on {@code dir}; stops at the first failure. */
    public static Result process(long seed, int cycles, int maxOpsPerCycle, Path dir, PrintStream out)
            throws IOException, InterruptedException {
        Random random = new Random(seed);
        Map<String, byte[]> base = new HashMap<>();
        List<String> failures = new ArrayList<>();
        int cycle = 0;
        for (; cycle < cycles; cycle++) {
            long cycleSeed = random.nextLong();
            int count = 1 + random.nextInt(maxOpsPerCycle);
            int killAfter = random.nextInt(count + 1);
            Process child = new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator
                    + "java", "-Xmx256m", "-cp", System.getProperty("java.class.path"), CrashChildMain.class.getName(),
                    dir.toString(), Long.toString(cycleSeed), Integer.toString(count))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            int acked = -1;
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while (acked < killAfter - 1 && (line = lines.readLine()) != null) {
                    acked = Integer.parseInt(line.substring("ack ".length()));
                }
                child.destroyForcibly();
                if (!child.waitFor(2, TimeUnit.MINUTES)) {
                    failures.add("seed " + seed + ", cycle " + cycle + ": the child did not die");
                    break;
                }
            }
            CrashWorkload workload = new CrashWorkload(cycleSeed);
            List<CrashWorkload.Op> ops = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ops.add(workload.next());
            }
            String context = "seed " + seed + ", cycle " + cycle + " (cycle seed " + cycleSeed + ", killed after "
                    + (acked + 1) + " of " + count + " acknowledgements)";
            try (TrainKV db = TrainKV.open(small(Options.at(dir)))) {
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

    private static void closeQuietly(TrainKV db) {
        try {
            db.close();
        } catch (RuntimeException e) {
            // the crashed instance may be in a failed state; only the reopened one matters
        }
    }

    /** {@code CrashTest --cycles N --seed S [--process] [--ops N] [--dir DIR]}: exit 0 if every cycle passed. */
    public static void main(String[] args) throws Exception {
        int cycles = 100;
        long seed = System.nanoTime();
        boolean processMode = false;
        int ops = 200;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cycles" -> cycles = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--process" -> processMode = true;
                case "--ops" -> ops = Integer.parseInt(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: crashtest [--cycles N] [--seed S] [--process] [--ops N] [--dir DIR]");
                    System.exit(2);
                }
            }
        }
        System.out.println((processMode ? "process" : "simulated") + " crash test, seed " + seed + ", " + cycles
                + " cycles of up to " + ops + " operations");
        Result result;
        if (processMode) {
            Path directory = dir != null ? dir : Files.createTempDirectory("trainkv-crashtest-");
            result = process(seed, cycles, ops, directory, System.out);
        } else {
            result = simulated(seed, cycles, ops, System.out);
        }
        System.out.println("cycles done: " + result.cycles() + ", failures: " + result.failures().size());
        for (String failure : result.failures()) {
            System.out.println("FAILURE " + failure);
        }
        System.exit(result.failures().isEmpty() ? 0 : 1);
    }
}
