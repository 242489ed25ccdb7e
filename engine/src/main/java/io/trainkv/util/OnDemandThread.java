package io.trainkv.util;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One daemon thread shared by every database of the JVM for short tasks of one kind (preparing a
 * writer's next memory, writing a log back), started when a task comes and stopped after 10 s
 * without one, so that it needs no closing and an idle JVM keeps no thread for it.
 */
public final class OnDemandThread {

    private OnDemandThread() {
    }

    /** An executor running tasks in submission order on one daemon thread named {@code name}. */
    public static ThreadPoolExecutor named(String name) {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                runnable -> {
                    Thread thread = new Thread(runnable, name);
                    thread.setDaemon(true);
                    return thread;
                });
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }
}
