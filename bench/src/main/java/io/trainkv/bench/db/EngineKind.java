package io.trainkv.bench.db;

import java.nio.file.Path;
import java.util.Locale;
import java.util.function.BiFunction;

/** The engines the harness can run, by the name used on the command line, and how to open each. */
enum EngineKind {
    TRAINKV(true, () -> { }, TrainKvEngine::open),
    ROCKSDB(true, RocksDbEngine::loadLibrary, RocksDbEngine::open),
    LEVELDB(false, () -> { }, LevelDbEngine::open),
    MVSTORE(true, () -> { }, MvStoreEngine::open);

    private final boolean reverseScans;
    private final Runnable loader;
    private final BiFunction<Path, EngineSettings, Engine> opener;

    EngineKind(boolean reverseScans, Runnable loader, BiFunction<Path, EngineSettings, Engine> opener) {
        this.reverseScans = reverseScans;
        this.loader = loader;
        this.opener = opener;
    }

    /** The command-line name: {@code trainkv}, {@code rocksdb}, {@code leveldb}, {@code mvstore}. */
    String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The command-line name, so that help lists the names as they are typed. */
    @Override
    public String toString() {
        return id();
    }

    /** Whether the engine can iterate in descending key order (the pure-Java LevelDB cannot). */
    boolean reverseScans() {
        return reverseScans;
    }

    /**
     * Loads native code the engine needs (RocksDB unpacks its 15 MB library to a temporary file),
     * so that doing so is not counted as the engine's disk writes.
     */
    void load() {
        loader.run();
    }

    /** Opens (creating if needed) the engine's database in {@code dir}. */
    Engine open(Path dir, EngineSettings settings) {
        return opener.apply(dir, settings);
    }
}
