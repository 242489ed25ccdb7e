import io.trainkv.DbIterator;
import io.trainkv.Entry;
import io.trainkv.IteratorOptions;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.WriteBatch;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The README's quick start as a runnable program:
 *   mvn -B -q -DskipTests install && java -cp engine/target/classes scripts/QuickStart.java [DIR]
 */
public class QuickStart {
    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "trainkv-data");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("answer", "42");
            System.out.println("answer = " + db.get("answer"));

            db.set(Entry.of("session", "abc").withTtl(Duration.ofMinutes(5)));
            System.out.println("session = " + db.get("session") + " (expires in 5 minutes)");

            db.write(new WriteBatch().set("a", "1").set("b", "2").delete("answer"), true);
            System.out.println("after batch: a=" + db.get("a") + " b=" + db.get("b") + " answer=" + db.get("answer"));

            try (DbIterator it = db.iterator(IteratorOptions.reverse())) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    System.out.println("  " + it.keyAsString() + " = " + it.valueAsString());
                }
            }
            db.flush();
            System.out.print(db.runValueLogGC(0.5).format());
            System.out.print(db.stats().format());
        }
    }
}
