import io.trainkv.DbIterator;
import io.trainkv.Entry;
import io.trainkv.IteratorOptions;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.WriteBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * The README's quick start as a runnable program, on a database of its own: a new temporary
 * directory that is deleted at the end, or DIR if given (a new or empty directory, kept, so the
 * tools can look at it afterwards; never the shell's ./trainkv-data):
 *   mvn -B -q -pl engine compile && java -cp engine/target/classes scripts/QuickStart.java [DIR]
 */
public class QuickStart {
    public static void main(String[] args) throws IOException {
        Options options;
        if (args.length > 0) {
            Path dir = Path.of(args[0]);
            if (holdsFiles(dir)) {
                System.err.println("error: " + dir + " is not empty; give a new or empty directory for the quick start");
                System.exit(2);
            }
            options = Options.at(dir);
            System.out.println("database in " + dir);
        } else {
            options = Options.inTempDirectory();
            System.out.println("database in a temporary directory, deleted at the end");
        }
        try (TrainKV db = TrainKV.open(options)) {
            db.set("answer", "42");
            System.out.println("answer = " + db.get("answer"));

            db.set(Entry.of("session", "abc").withTtl(Duration.ofMinutes(5)));
            System.out.println("session = " + db.get("session") + " (expires in 5 minutes)");

            db.write(new WriteBatch().set("a", "1").set("b", "2").delete("answer"), true);
            System.out.println("after batch: a=" + db.get("a") + " b=" + db.get("b") + " answer=" + db.get("answer"));

            // keys and values are bytes: print binary ones as hex, never raw to the terminal
            db.set("blob".getBytes(), new byte[] {0x00, (byte) 0xff, 0x0a, 0x41});
            try (DbIterator it = db.iterator(IteratorOptions.reverse())) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    String value = it.keyAsString().equals("blob") ? "0x" + HexFormat.of().formatHex(it.value())
                            : it.valueAsString();
                    System.out.println("  " + it.keyAsString() + " = " + value);
                }
            }
            db.flush();
            System.out.print(db.runValueLogGC(0.5).format());
            System.out.print(db.stats().format());
        }
    }

    private static boolean holdsFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.findAny().isPresent();
        }
    }
}
