package io.trainkv.replication;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The short write load of {@code scripts/cluster-demo} and of the cluster rows in
 * docs/benchmarks.md: {@code --ops} sets of 16-byte keys and {@code --value-size}-byte values from
 * {@code --clients} threads, against a cluster ({@code --peers}) or, for comparison, a local
 * database ({@code --local DIR}, {@code --sync} to fsync every write as the Raft log does). Prints
 * throughput and latency percentiles, then reads every key back and checks it (exit 1 if one is
 * wrong).
 */
public final class ClusterLoad {

    private ClusterLoad() {
    }

    public static void main(String[] args) throws Exception {
        String peers = null;
        Path local = null;
        boolean sync = false;
        int ops = 2000;
        int clients = 4;
        int valueSize = 100;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--peers" -> peers = args[++i];
                case "--local" -> local = Path.of(args[++i]);
                case "--sync" -> sync = true;
                case "--ops" -> ops = Integer.parseInt(args[++i]);
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                case "--value-size" -> valueSize = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: ClusterLoad (--peers ID=HOST:PORT,... | --local DIR [--sync]) "
                            + "[--ops N] [--clients C] [--value-size BYTES]");
                    System.exit(2);
                }
            }
        }
        if ((peers == null) == (local == null)) {
            System.err.println("error: give exactly one of --peers and --local");
            System.exit(2);
        }
        byte[] value = new byte[valueSize];
        Arrays.fill(value, (byte) 'v');
        int wrong;
        if (peers != null) {
            try (ReplicatedTrainKV kv = ReplicatedTrainKV.connect(peers)) {
                run("cluster " + peers, ops, clients, i -> kv.set(key(i), value));
                wrong = verify(ops, i -> kv.get(key(i)), value);
            }
        } else {
            boolean fsync = sync;
            try (TrainKV db = TrainKV.open(Options.at(local))) {
                run("local " + local + (fsync ? " (fsync per write)" : " (no fsync)"), ops, clients,
                        i -> db.write(new WriteBatch().set(key(i), value), fsync));
                wrong = verify(ops, i -> db.get(key(i)), value);
            }
        }
        if (wrong > 0) {
            System.out.println(wrong + " keys read back wrong");
            System.exit(1);
        }
        System.out.println("all " + ops + " keys read back");
    }

    private static byte[] key(int i) {
        return String.format(Locale.ROOT, "key%013d", i).getBytes(StandardCharsets.US_ASCII);
    }

    private interface Reader {
        byte[] get(int i);
    }

    private static int verify(int ops, Reader reader, byte[] value) {
        int wrong = 0;
        for (int i = 0; i < ops; i++) {
            if (!Arrays.equals(reader.get(i), value)) {
                wrong++;
            }
        }
        return wrong;
    }

    /** Runs {@code ops} writes from {@code clients} threads (key i by thread i % clients) and prints the numbers. */
    private static void run(String target, int ops, int clients, Consumer<Integer> write) throws InterruptedException {
        long[] latencies = new long[ops];
        AtomicLong failures = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int first = c;
            Thread t = new Thread(() -> {
                for (int i = first; i < ops; i += clients) {
                    long begin = System.nanoTime();
                    try {
                        write.accept(i);
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                    }
                    latencies[i] = System.nanoTime() - begin;
                }
            }, "load-" + c);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Arrays.sort(latencies);
        System.out.printf(Locale.ROOT, "%s: %d writes, %d clients, %.1f s, %.0f writes/s; latency ms p50 %.2f p99 %.2f "
                        + "max %.2f; %d failed%n", target, ops, clients, seconds, ops / seconds,
                percentile(latencies, 0.50), percentile(latencies, 0.99), latencies[ops - 1] / 1e6, failures.get());
    }

    private static double percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }
}
