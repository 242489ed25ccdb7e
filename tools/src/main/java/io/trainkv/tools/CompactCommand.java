package io.trainkv.tools;

import io.trainkv.Options;
import io.trainkv.Stats;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainkv compact DIR}: opens a closed database and forces compaction of the tables holding
 * keys in a range ({@code [from, to)}, or {@code [from, to]} with --inclusive; the engine's
 * {@code compactRange} takes an inclusive last key, so an excluded --to becomes the largest key below it), or of
 * everything into the bottom level ({@code --flatten}, the default without a range), showing
 * progress (compaction bytes read against the table bytes there were: a whole-database rewrite
 * reads each about once), the compactions and, apart, the trivial moves (tables moved down a level
 * without being read or rewritten), and the level shape before and after. Options are checked
 * before the directory is opened. Exit codes by {@link Severity}: 0 on success; 1 if the database
 * is damaged (the open or the compaction meets a {@code CorruptionException}, or {@code CURRENT} is
 * lost); 2 on a usage error, a directory that is not a database or that another process holds, or
 * an I/O error.
 */
@Command(name = "compact", mixinStandardHelpOptions = true,
        description = {"Force compaction of a closed database, with progress and before/after level shape.",
            "A range is [from, to): the --to key is excluded unless --inclusive."})
public final class CompactCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIR", description = "The database directory.")
    Path directory;

    @Mixin
    KeyRange range;

    @Option(names = "--flatten", description = "Compact everything into the bottom level (the default without a range).")
    boolean flatten;

    @Option(names = "--json", description = "Print the level shapes and the work done as one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        String usage = range.usageError();
        if (usage != null) {
            System.err.println("error: " + usage);
            return 2;
        }
        ClosedDirectory.Refusal refusal = ClosedDirectory.openRefusal(directory);
        if (refusal != null) {
            return ClosedDirectory.fail(directory, refusal.severity(), refusal.reason(), json, System.out, System.err);
        }
        try (TrainKV db = TrainKV.open(Options.at(directory).gcInterval(Duration.ZERO))) {
            Stats before = db.stats();
            if (!json) {
                System.out.println("before:");
                System.out.print(levels(before));
            }
            long tableBytes = before.levels().stream().mapToLong(Stats.LevelStats::bytes).sum();
            AtomicBoolean complete = new AtomicBoolean();
            try (Progress progress = Progress.start(() -> {
                Stats now = db.stats();
                long read = now.compactionReadBytes() - before.compactionReadBytes();
                return (complete.get() ? Progress.bar(1, 1) : Progress.bar(read, Math.max(tableBytes, read + 1))) + " "
                        + Stats.compactionSummary(now.compactions() - before.compactions(),
                        now.trivialMoves() - before.trivialMoves(), read,
                        now.compactionWriteBytes() - before.compactionWriteBytes());
            })) {
                if (!range.given() || flatten) {
                    db.flatten();
                } else {
                    db.compactRange(range.first(), range.last());
                }
                complete.set(true);
                progress.succeeded();
            }
            Stats after = db.stats();
            if (json) {
                System.out.println(Json.write(Severity.OK.addTo(Json.object("directory", directory.toString(),
                        "before", levelsJson(before), "after", levelsJson(after),
                        "compactions", after.compactions() - before.compactions(),
                        "trivialMoves", after.trivialMoves() - before.trivialMoves(),
                        "readBytes", after.compactionReadBytes() - before.compactionReadBytes(),
                        "writtenBytes", after.compactionWriteBytes() - before.compactionWriteBytes()))));
            } else {
                System.out.println("after:");
                System.out.print(levels(after));
            }
            return 0;
        } catch (IllegalArgumentException e) {
            return ClosedDirectory.fail(directory, Severity.UNUSABLE, e.getMessage(), json, System.out, System.err);
        } catch (TrainKVException e) {
            return ClosedDirectory.fail(directory, Severity.of(e), e.getMessage(), json, System.out, System.err);
        }
    }

    private static String levels(Stats stats) {
        StringBuilder out = new StringBuilder();
        for (Stats.LevelStats level : stats.levels()) {
            if (level.tables() > 0) {
                out.append(String.format(Locale.ROOT, "  L%d: %d tables, %.1f MiB%n", level.level(), level.tables(),
                        level.bytes() / 1048576.0));
            }
        }
        return out.length() == 0 ? "  (no tables)\n" : out.toString();
    }

    private static List<Object> levelsJson(Stats stats) {
        return stats.levels().stream().filter(l -> l.tables() > 0).<Object>map(l -> Json.object("level", l.level(),
                "tables", l.tables(), "bytes", l.bytes())).toList();
    }
}
