package io.trainkv.tools;

import io.trainkv.BackupEngine;
import io.trainkv.CorruptionException;
import io.trainkv.TrainKVException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.ToIntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainkv backup}, {@code restore}, {@code backup-list} and {@code backup-verify}: the
 * command-line face of {@link BackupEngine}. A database is backed up closed (opened read-only,
 * which holds its directory lock, so no process writes it meanwhile); a live database is backed
 * up through the Java API. Exit codes by {@link Severity}: 0 fine, 1 a damaged backup (naming the
 * file) or a damaged database, 2 usage or I/O error, a directory that is not a database or that
 * another process holds, or no such backup.
 */
final class BackupCommand {

    private BackupCommand() {
    }

    /** {@code trainkv backup DB BACKUPDIR [--keep N]}. */
    @Command(name = "backup", mixinStandardHelpOptions = true,
            description = "Back up a closed database into a backup directory (incremental: unchanged tables and "
                    + "value-log files are stored once).")
    static final class Create implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "DB", description = "The database directory (closed).")
        Path database;

        @Parameters(index = "1", paramLabel = "BACKUPDIR", description = "The backup directory (created if absent).")
        Path backups;

        @Option(names = "--keep", paramLabel = "N", description = "Afterwards keep only the newest N backups.")
        Integer keep;

        @Override
        public Integer call() {
            if (keep != null && keep < 1) {
                System.err.println("error: --keep must be at least 1, got " + keep);
                return 2;
            }
            ClosedDirectory.Refusal refusal = ClosedDirectory.openRefusal(database);
            if (refusal != null) {
                return ClosedDirectory.fail(database, refusal.severity(), refusal.reason(), false, System.out, System.err);
            }
            try (BackupEngine engine = BackupEngine.open(backups)) {
                BackupEngine.BackupInfo info;
                AtomicLongArray progress = new AtomicLongArray(2);
                try (Progress bar = Progress.start(() -> status("backed up", progress))) {
                    info = engine.create(database, (done, total) -> record(progress, done, total));
                }
                System.out.println("backup " + info.id() + ": version " + info.version() + ", " + info.files()
                        + " files, " + info.bytes() + " bytes (" + info.addedBytes() + " new)");
                if (keep != null) {
                    List<Long> deleted = engine.purge(keep);
                    System.out.println(deleted.isEmpty() ? "kept every backup" : "deleted backups " + ids(deleted));
                }
                return 0;
            } catch (TrainKVException | IllegalArgumentException e) {
                return failed(e);
            }
        }
    }

    /** {@code trainkv restore BACKUPDIR TARGET [--backup N]}. */
    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Restore the latest (or a chosen) backup into an empty directory, verifying every checksum.")
    static final class Restore implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "BACKUPDIR", description = "The backup directory.")
        Path backups;

        @Parameters(index = "1", paramLabel = "TARGET", description = "A directory that does not exist or is empty.")
        Path target;

        @Option(names = "--backup", paramLabel = "N", description = "The backup to restore. Default: the newest.")
        Long backup;

        @Override
        public Integer call() {
            return withBackups(backups, engine -> {
                long id = backup != null ? backup : engine.latest();
                BackupEngine.BackupInfo info;
                AtomicLongArray progress = new AtomicLongArray(2);
                try (Progress bar = Progress.start(() -> status("verified and restored", progress))) {
                    info = engine.restore(id, target, (done, total) -> record(progress, done, total));
                }
                System.out.println("restored backup " + info.id() + " (version " + info.version() + ", " + info.files()
                        + " files, " + info.bytes() + " bytes) into " + target);
                return 0;
            });
        }
    }

    /** {@code trainkv backup-list BACKUPDIR [--json]}. */
    @Command(name = "backup-list", mixinStandardHelpOptions = true,
            description = "List the backups in a backup directory, oldest first.")
    static final class ListBackups implements Callable<Integer> {

        @Parameters(paramLabel = "BACKUPDIR", description = "The backup directory.")
        Path backups;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() {
            return withBackups(backups, engine -> {
                List<BackupEngine.BackupInfo> infos = engine.list();
                if (json) {
                    List<Object> list = new ArrayList<>();
                    for (BackupEngine.BackupInfo i : infos) {
                        list.add(Json.object("id", i.id(), "version", i.version(), "created", i.created().toString(),
                                "files", i.files(), "bytes", i.bytes(), "addedBytes", i.addedBytes()));
                    }
                    System.out.println(Json.write(Severity.OK.addTo(Json.object("directory", backups.toString(), "backups", list))));
                } else {
                    System.out.printf(Locale.ROOT, "%6s %12s  %-24s %6s %14s %14s%n", "id", "version", "created", "files",
                            "bytes", "added bytes");
                    for (BackupEngine.BackupInfo i : infos) {
                        System.out.printf(Locale.ROOT, "%6d %12d  %-24s %6d %14d %14d%n", i.id(), i.version(),
                                i.created(), i.files(), i.bytes(), i.addedBytes());
                    }
                }
                return 0;
            });
        }
    }

    /** {@code trainkv backup-verify BACKUPDIR [--backup N] [--json]}. */
    @Command(name = "backup-verify", mixinStandardHelpOptions = true,
            description = "Check every file of every backup (or of one) against its recorded size and CRC32C.")
    static final class Verify implements Callable<Integer> {

        @Parameters(paramLabel = "BACKUPDIR", description = "The backup directory.")
        Path backups;

        @Option(names = "--backup", paramLabel = "N", description = "Verify only this backup.")
        Long backup;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() {
            return withBackups(backups, engine -> {
                List<BackupEngine.BackupInfo> all = engine.list();
                List<Long> ids = backup != null ? List.of(backup) : all.stream().map(BackupEngine.BackupInfo::id).toList();
                long total = all.stream().filter(i -> ids.contains(i.id())).mapToLong(BackupEngine.BackupInfo::bytes).sum();
                long[] before = {0};
                List<BackupEngine.Problem> problems = new ArrayList<>();
                List<Object> results = new ArrayList<>();
                StringBuilder text = new StringBuilder();
                AtomicLongArray progress = new AtomicLongArray(2);
                try (Progress bar = Progress.start(() -> status("verified", progress))) {
                    for (long id : ids) {
                        List<BackupEngine.Problem> found = engine.verify(id,
                                (done, bytes) -> record(progress, before[0] + done, total));
                        before[0] += all.stream().filter(i -> i.id() == id).mapToLong(BackupEngine.BackupInfo::bytes).sum();
                        problems.addAll(found);
                        String verdict = (found.isEmpty() ? Severity.OK : Severity.DAMAGED).word();
                        results.add(Json.object("id", id, "verdict", verdict, "problems",
                                found.stream().<Object>map(p -> Json.object("file", p.file(), "problem", p.description())).toList()));
                        text.append("backup ").append(id).append(": ").append(verdict).append('\n');
                        for (BackupEngine.Problem p : found) {
                            text.append("  ").append(p).append('\n');
                        }
                    }
                }
                Severity severity = problems.isEmpty() ? Severity.OK : Severity.DAMAGED;
                System.out.print(json ? Json.write(severity.addTo(Json.object("directory", backups.toString(),
                        "backups", results))) + "\n" : text);
                return severity.exitCode();
            });
        }
    }

    /**
     * Reports {@code failure} as one {@code error:} line; returns its exit code by {@link Severity}:
     * 1 for damage ({@link CorruptionException}), 2 for anything else (usage, I/O, a held directory).
     */
    private static int failed(RuntimeException failure) {
        System.err.println("error: " + failure.getMessage());
        return failure instanceof IllegalArgumentException ? Severity.UNUSABLE.exitCode()
                : Severity.of(failure).exitCode();
    }

    /**
     * Runs {@code work} on the backup directory {@code backups}, opened (and closed after); returns
     * its exit code, or exit 2 with one line if {@code backups} is not a backup directory, or the
     * exit code of a failure reported by {@link #failed}.
     */
    private static int withBackups(Path backups, ToIntFunction<BackupEngine> work) {
        Integer refused = refuseNonBackupDirectory(backups);
        if (refused != null) {
            return refused;
        }
        try (BackupEngine engine = BackupEngine.open(backups)) {
            return work.applyAsInt(engine);
        } catch (TrainKVException | IllegalArgumentException e) {
            return failed(e);
        }
    }

    /** Exit 2 with one line unless {@code directory} is a backup directory; null if it is one. */
    private static Integer refuseNonBackupDirectory(Path directory) {
        if (BackupEngine.isBackupDirectory(directory)) {
            return null;
        }
        System.err.println("error: " + directory + " is not a backup directory (no meta/ directory in it)");
        return 2;
    }

    private static void record(AtomicLongArray progress, long done, long total) {
        progress.set(0, done);
        progress.set(1, total);
    }

    private static String status(String verb, AtomicLongArray progress) {
        long done = progress.get(0);
        long total = progress.get(1);
        return Progress.bar(done, total) + " " + verb + " " + done + " of " + total + " bytes";
    }

    private static String ids(List<Long> ids) {
        return String.join(", ", ids.stream().map(String::valueOf).toList());
    }
}
