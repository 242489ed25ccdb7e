package io.trainkv.bench.db;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * Runs one workload on an open engine: what each db_bench workload does, split over the threads,
 * timed per operation. The {@code num} operations are shared out among the threads (db_bench gives
 * each thread {@code num}); each thread takes a contiguous slice of key indexes for the sequential
 * workloads and its own random stream for the random ones.
 */
final class WorkloadRunner {

    private final Engine engine;
    private final KeySpace keys;
    private final ValueSource values;
    private final int threads;
    private final int ycsbOps;
    private final int writeRate;
    /** Each thread's value array, for engines that copy values; null for engines that keep them. */
    private final ThreadLocal<byte[]> reusedValue;
    private Zipfian zipfian;

    /**
     * {@code ycsbOps}: operations of ycsba, shared out among the threads; {@code writeRate}: puts
     * per second of readwhilewriting's writer, 0 for unthrottled.
     */
    WorkloadRunner(Engine engine, KeySpace keys, ValueSource values, int threads, int ycsbOps, int writeRate) {
        this.writeRate = writeRate;
        this.reusedValue = engine.keepsValueArrays() ? null : ThreadLocal.withInitial(values::newValueArray);
        this.engine = engine;
        this.keys = keys;
        this.values = values;
        this.threads = threads;
        this.ycsbOps = ycsbOps;
    }

    /** Runs {@code workload} to the end and returns what its threads measured. */
    Measurement run(Workload workload, Progress progress) throws InterruptedException {
        int[] order = workload == Workload.FILLRANDOM ? keys.permutation() : null;
        if (workload == Workload.YCSBA) {
            zipfian = new Zipfian(keys.num());
        }
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Recorder> recorders = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Recorder recorder = new Recorder(progress);
            int thread = t;
            recorders.add(recorder);
            workers.add(worker(workload.id() + "-" + t, start, failure,
                    () -> runSlice(workload, thread, order, recorder)));
        }
        AtomicBoolean readersDone = new AtomicBoolean();
        Recorder background = null;
        Thread writer = null;
        if (workload == Workload.READWHILEWRITING) {
            Recorder writes = new Recorder(null);
            background = writes;
            writer = worker("writer", start, failure, () -> writeUntil(readersDone, writes));
        }
        long begin = System.nanoTime();
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        long nanos = System.nanoTime() - begin;
        readersDone.set(true);
        if (writer != null) {
            writer.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException(workload.id() + " failed: " + failure.get(), failure.get());
        }
        return Measurement.merge(recorders, background, nanos);
    }

    private static Thread worker(String name, CountDownLatch start, AtomicReference<Throwable> failure, Runnable body) {
        Thread thread = new Thread(() -> {
            try {
                start.await();
                body.run();
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }, "bench-" + name);
        thread.start();
        return thread;
    }

    private void runSlice(Workload workload, int thread, int[] order, Recorder r) {
        int from = sliceStart(thread);
        int to = sliceStart(thread + 1);
        int count = to - from;
        SplittableRandom random = keys.random(workload, thread);
        switch (workload) {
            case FILLSEQ -> {
                for (int i = from; i < to; i++) {
                    put(keys.key(i), random, r);
                }
            }
            case FILLRANDOM -> {
                for (int j = from; j < to; j++) {
                    put(keys.key(order[j]), random, r);
                }
            }
            case OVERWRITE -> {
                for (int n = 0; n < count; n++) {
                    put(keys.key(keys.randomIndex(random)), random, r);
                }
            }
            case READRANDOM, READWHILEWRITING -> readRandom(keys::key, count, random, r);
            case READMISSING -> readRandom(keys::missingKey, count, random, r);
            case READSEQ -> scan(false, keys.key(from), count, r);
            case READREVERSE -> scan(true, keys.key(to - 1), count, r);
            case SEEKRANDOM -> seekRandom(count, random, r);
            case YCSBA -> {
                int ops = (int) ((long) ycsbOps * (thread + 1) / threads - (long) ycsbOps * thread / threads);
                for (int n = 0; n < ops; n++) {
                    byte[] key = keys.key(zipfian.next(random));
                    if (random.nextBoolean()) {
                        long t0 = System.nanoTime();
                        byte[] value = engine.get(key);
                        r.read(t0, value != null, value == null ? 0 : key.length + value.length);
                    } else {
                        put(key, random, r);
                    }
                }
            }
            case OPEN -> throw new IllegalArgumentException("open is timed by EngineRun, not run by threads");
            case DELETERANDOM -> {
                for (int n = 0; n < count; n++) {
                    byte[] key = keys.key(keys.randomIndex(random));
                    long t0 = System.nanoTime();
                    engine.delete(key);
                    r.write(t0, key.length);
                }
            }
        }
    }

    private int sliceStart(int thread) {
        return (int) ((long) keys.num() * thread / threads);
    }

    private void put(byte[] key, SplittableRandom random, Recorder r) {
        byte[] value = reusedValue == null ? values.next(random) : values.next(random, reusedValue.get());
        long t0 = System.nanoTime();
        engine.put(key, value);
        r.write(t0, key.length + value.length);
    }

    private void readRandom(IntFunction<byte[]> keyOf, int count, SplittableRandom random, Recorder r) {
        for (int n = 0; n < count; n++) {
            byte[] key = keyOf.apply(keys.randomIndex(random));
            long t0 = System.nanoTime();
            byte[] value = engine.get(key);
            r.read(t0, value != null, value == null ? 0 : key.length + value.length);
        }
    }

    /** Reads {@code count} entries from {@code first} on (each step: key, value, next). */
    private void scan(boolean reverse, byte[] first, int count, Recorder r) {
        try (Engine.Cursor cursor = engine.cursor(reverse)) {
            cursor.seek(first);
            for (int n = 0; n < count && cursor.valid(); n++) {
                long t0 = System.nanoTime();
                int bytes = cursor.key().length + cursor.value().length;
                cursor.next();
                r.read(t0, true, bytes);
            }
        }
    }

    /** Seeks one cursor per thread to random present keys and reads the entry it lands on. */
    private void seekRandom(int count, SplittableRandom random, Recorder r) {
        try (Engine.Cursor cursor = engine.cursor(false)) {
            for (int n = 0; n < count; n++) {
                byte[] key = keys.key(keys.randomIndex(random));
                long t0 = System.nanoTime();
                cursor.seek(key);
                boolean hit = cursor.valid() && Arrays.equals(cursor.key(), key);
                r.read(t0, hit, hit ? key.length + cursor.value().length : 0);
            }
        }
    }

    /**
     * readwhilewriting's writer: overwrites random present keys (at least one) until the readers
     * are done, at most {@link #writeRate} puts per second when that is set ({@link PutSchedule}).
     */
    private void writeUntil(AtomicBoolean readersDone, Recorder r) {
        SplittableRandom random = keys.random(Workload.READWHILEWRITING, threads);
        PutSchedule schedule = new PutSchedule(System.nanoTime(), writeRate);
        do {
            long wait = schedule.waitNanos(System.nanoTime());
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            } else {
                put(keys.key(keys.randomIndex(random)), random, r);
            }
        } while (!readersDone.get());
    }
}
