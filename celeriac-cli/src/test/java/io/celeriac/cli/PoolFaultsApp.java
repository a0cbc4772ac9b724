package io.celeriac.cli;

import io.celeriac.CeleriacApp;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Tasks for the pool fault tests, loaded by real worker processes (--app): {@code nap(ms)} sleeps and
 * returns the pid that ran it; {@code hog(file)} appends its pid to the file, then allocates until
 * the JVM is out of memory.
 */
public final class PoolFaultsApp implements CeleriacApp {
    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(Tasks.raw("nap", ctx -> {
            Thread.sleep(ctx.args().get(0).asLong());
            return ProcessHandle.current().pid();
        }));
        tasks.register(Tasks.raw("hog", ctx -> {
            attempt(ctx.args().get(0).asText());
            List<long[]> heap = new ArrayList<>();
            while (true) {
                heap.add(new long[128 * 1024]); // 1 MiB at a time, until OutOfMemoryError
            }
        }));
    }

    private static void attempt(String file) throws IOException {
        Files.writeString(Path.of(file), ProcessHandle.current().pid() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
