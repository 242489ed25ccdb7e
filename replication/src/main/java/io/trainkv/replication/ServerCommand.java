package io.trainkv.replication;

import io.trainkv.shell.LogLines;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code trainkv server}: runs one member of a replicated cluster until the process is stopped
 * (SIGINT/SIGTERM close it cleanly). Lives in the replication module so that the tools module's
 * other commands never load Ratis; {@code TrainKvCommand} lists it as a subcommand.
 */
@Command(name = "server", mixinStandardHelpOptions = true,
        description = "Run one member of a replicated TrainKV cluster (Apache Ratis); see docs/replication.md.")
public final class ServerCommand implements Callable<Integer> {

    /**
     * Held strongly: java.util.logging keeps loggers weakly. Ratis's records print as the engine's
     * do, one {@code warning:} line each; its INFO lines are for --verbose.
     */
    private static final Logger RATIS = Logger.getLogger("org.apache.ratis");

    @Spec
    CommandSpec spec;

    @Option(names = "--id", required = true, paramLabel = "ID", description = "This member's id, one of --peers.")
    String id;

    @Option(names = "--peers", required = true, paramLabel = "ID=HOST:PORT,...",
            description = "Every member of the cluster, this one included, e.g. n1=localhost:7001,n2=localhost:7002,n3=localhost:7003.")
    String peers;

    @Option(names = "--db", required = true, paramLabel = "DIR",
            description = "This member's directory (created if missing): DIR/data is the database, DIR/raft the Raft log and snapshots.")
    Path directory;

    @Option(names = "--group", paramLabel = "NAME", defaultValue = Peers.DEFAULT_GROUP,
            description = "Cluster name; clients use the same one. Default: ${DEFAULT-VALUE}")
    String group;

    @Option(names = "--snapshot-every", paramLabel = "N", defaultValue = "100000",
            description = "Log entries between snapshots (the log is purged up to each). Default: ${DEFAULT-VALUE}")
    long snapshotEvery;

    @Option(names = "--verbose", description = "Print Ratis's INFO log lines too (elections, snapshots).")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        LogLines.route(RATIS, verbose);
        if (Files.exists(directory) && !Files.isDirectory(directory)) {
            err.println("error: --db " + directory + " is a file, not a directory");
            return 2;
        }
        if (snapshotEvery < 1) {
            err.println("error: --snapshot-every must be at least 1, got " + snapshotEvery);
            return 2;
        }
        ReplicaServer.Settings defaults = ReplicaServer.Settings.defaults();
        ReplicaServer.Settings settings = new ReplicaServer.Settings(snapshotEvery, defaults.purgeGap(),
                defaults.segmentBytes(), defaults.snapshotOnStop(), defaults.options());
        ReplicaServer server;
        try {
            server = ReplicaServer.start(id, Peers.group(group, Peers.parse(peers)), directory, settings);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("error: closing the server: " + e.getMessage());
            }
            stopped.countDown();
        }, "trainkv-server-shutdown"));
        err.println("trainkv server " + id + " serving " + directory + " (peers " + peers + "); stop with Ctrl-C");
        err.flush();
        stopped.await();
        return 0;
    }
}
