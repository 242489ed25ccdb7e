package io.trainkv.bench.db;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.BiFunction;

/** The engines the harness can run, by the name used on the command line, and how to open each. */
enum EngineKind {
    TRAINKV("trainkv", true, () -> { }, TrainKvEngine::open),
    ROCKSDB("rocksdb", true, RocksDbEngine::loadLibrary, RocksDbEngine::openDefault),
    ROCKSDB_TUNED("rocksdb-tuned", true, RocksDbEngine::loadLibrary, RocksDbEngine::openTuned),
    LEVELDB("leveldb", false, () -> { }, LevelDbEngine::open),
    MVSTORE("mvstore", true, () -> { }, MvStoreEngine::open);

    private final String id;
    private final boolean reverseScans;
    private final Runnable loader;
    private final BiFunction<Path, EngineSettings, Engine> opener;

    EngineKind(String id, boolean reverseScans, Runnable loader, BiFunction<Path, EngineSettings, Engine> opener) {
        this.id = id;
        this.reverseScans = reverseScans;
        this.loader = loader;
        this.opener = opener;
    }

    /**
     * The command-line name: {@code trainkv}, {@code rocksdb} (default options),
     * {@code rocksdb-tuned} (options as a user tunes them), {@code leveldb}, {@code mvstore}.
     */
    String id() {
        return id;
    }

    /**
     * The engine named {@code id} on the command line, ignoring case.
     *
     * @throws IllegalArgumentException if no engine has that name
     */
    static EngineKind fromId(String id) {
        for (EngineKind kind : values()) {
            if (kind.id.equalsIgnoreCase(id)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + id + "'; engines: " + Arrays.toString(values()));
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
