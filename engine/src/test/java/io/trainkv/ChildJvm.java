package io.trainkv;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Starts a test main class in a separate JVM with this test run's class path. */
final class ChildJvm {

    private ChildJvm() {
    }

    static Process start(Class<?> mainClass, String... args) throws IOException {
        return start("-Xmx256m", mainClass, args);
    }

    /** As above, with the child's heap limit given as a JVM option such as {@code -Xmx3g}. */
    static Process start(String maxHeap, Class<?> mainClass, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.add(maxHeap);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
