package io.trainkv.shell;

import io.trainkv.DbIterator;
import io.trainkv.IteratorOptions;
import io.trainkv.TrainKV;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jline.reader.Candidate;
import org.jline.reader.CompletingParsedLine;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.ParsedLine;
import org.jline.reader.Parser;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;

/**
 * The interactive loop: JLine line editing, a history file, tab completion of commands, options
 * and (for get, del, scan, count and set) keys by prefix, offered in the form the tokenizer reads
 * (quoted or hex when a key needs it). The line reader passes each line through untouched (no
 * event expansion, no quote or escape handling of its own): {@link Tokenizer} is the one parser.
 * Ctrl-C cancels the line being typed or a running scan; Ctrl-D leaves.
 * Leaving (exit or Ctrl-D) with a transaction open asks first whether to discard it: y leaves and
 * rolls it back, anything else (Enter) stays; a second Ctrl-D at the question leaves.
 */
final class Repl {

    private static final Map<String, List<String>> OPTIONS = Map.of(
            "get", List.of("--hex"),
            "scan", List.of("--limit", "--reverse", "--keys-only", "--hex"),
            "begin", List.of("--read-only"),
            "set", List.of("--file"));
    private static final int KEY_COMPLETIONS = 50;

    private Repl() {
    }

    static void run(TrainKV db, Terminal terminal, Path history) {
        AtomicBoolean interrupted = new AtomicBoolean();
        CommandInterpreter interpreter = new CommandInterpreter(db, terminal.writer(), terminal.writer(), 1);
        interpreter.setCancellation(interrupted::get);
        LineReader reader = LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("trainkv")
                .variable(LineReader.HISTORY_FILE, history)
                .parser(new LineParser())
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .completer((lineReader, line, candidates) -> complete(db, interpreter, line.words(), line.wordIndex(),
                        line.word().substring(0, line.wordCursor()), candidates))
                .build();
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, signal -> interrupted.set(true));
        terminal.writer().println("TrainKV shell on " + db.directory() + ". Type help, or exit.");
        terminal.writer().flush();
        try {
            while (true) {
                String line;
                try {
                    interrupted.set(false);
                    line = reader.readLine(interpreter.inTransaction() ? "trainkv(txn)> " : "trainkv> ");
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    line = "exit";
                }
                try {
                    interpreter.execute(line, null);
                } catch (CommandInterpreter.ExitRequested exit) {
                    if (mayLeave(reader, interpreter)) {
                        break;
                    }
                }
                terminal.writer().flush();
            }
        } finally {
            terminal.handle(Terminal.Signal.INT, previous);
            interpreter.close();
            try {
                reader.getHistory().save();
            } catch (java.io.IOException e) {
                terminal.writer().println("warning: cannot save history: " + e.getMessage());
            }
        }
    }

    /** Whether to leave: yes unless a transaction is open and the user does not confirm discarding it. */
    private static boolean mayLeave(LineReader reader, CommandInterpreter interpreter) {
        if (!interpreter.inTransaction()) {
            return true;
        }
        String answer;
        reader.setVariable(LineReader.DISABLE_HISTORY, true); // the answer is no command to recall
        try {
            answer = reader.readLine("a transaction is open; leave and discard it? (y/N) ");
        } catch (UserInterruptException e) {
            return false;
        } catch (EndOfFileException e) {
            answer = "y";
        } finally {
            reader.setVariable(LineReader.DISABLE_HISTORY, false);
        }
        if (answer.trim().equalsIgnoreCase("y") || answer.trim().equalsIgnoreCase("yes")) {
            reader.getTerminal().writer().println("ROLLBACK (the transaction was discarded)");
            reader.getTerminal().writer().flush();
            return true;
        }
        reader.getTerminal().writer().println("still in the transaction: commit or rollback, then exit");
        return false;
    }

    private static void complete(TrainKV db, CommandInterpreter interpreter, List<String> words, int index,
                                 String prefix, List<Candidate> candidates) {
        if (index == 0) {
            for (String command : CommandInterpreter.COMMANDS.keySet()) {
                candidates.add(new Candidate(command));
            }
            candidates.add(new Candidate("quit"));
            return;
        }
        String command = words.get(0).toLowerCase(java.util.Locale.ROOT);
        if (prefix.startsWith("-")) {
            for (String option : OPTIONS.getOrDefault(command, List.of())) {
                candidates.add(new Candidate(option));
            }
            return;
        }
        if (index == 1 && List.of("get", "del", "scan", "count", "set").contains(command) && !interpreter.inTransaction()) {
            try (DbIterator it = db.iterator(IteratorOptions.forward().prefix(Tokenizer.prefixBytes(prefix)))) {
                int n = 0;
                for (it.seekToFirst(); it.valid() && n < KEY_COMPLETIONS; it.next(), n++) {
                    candidates.add(new Candidate(Display.word(it.key(), prefix)));
                }
            }
        }
    }

    /**
     * Gives JLine the word boundaries of {@link Tokenizer} (for completion) and otherwise leaves the
     * line alone: no escape characters, no quotes of its own, never a continuation line.
     */
    static final class LineParser implements Parser {

        @Override
        public ParsedLine parse(String line, int cursor, ParseContext context) {
            List<String> words = new ArrayList<>();
            int index = -1;
            int wordCursor = 0;
            int before = 0;
            for (Tokenizer.Span span : Tokenizer.spans(line)) {
                if (index < 0 && cursor >= span.start() && cursor <= span.end()) {
                    index = words.size();
                    wordCursor = cursor - span.start();
                }
                if (span.end() < cursor) {
                    before++;
                }
                words.add(line.substring(span.start(), span.end()));
            }
            if (index < 0) {
                index = before;
                words.add(index, "");
            }
            return new Line(line, cursor, List.copyOf(words), index, wordCursor);
        }

        @Override
        public boolean isEscapeChar(char ch) {
            return false;
        }
    }

    /** A line split by {@link LineParser}; words are as typed, so completions are inserted as given. */
    private record Line(String line, int cursor, List<String> words, int wordIndex, int wordCursor)
            implements CompletingParsedLine {

        @Override
        public String word() {
            return words.get(wordIndex);
        }

        @Override
        public CharSequence escape(CharSequence candidate, boolean complete) {
            return candidate;
        }

        @Override
        public int rawWordCursor() {
            return wordCursor;
        }

        @Override
        public int rawWordLength() {
            return word().length();
        }
    }
}
