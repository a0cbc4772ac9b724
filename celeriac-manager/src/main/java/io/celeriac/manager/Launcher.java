package io.celeriac.manager;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * How the supervisor starts and signals processes: the one place that touches the OS, so the state
 * machine can be tested with a launcher of its own.
 */
public interface Launcher {

    /** Starts {@code command}; each line the process writes (stdout or stderr) goes to {@code output}. */
    Child launch(String processName, List<String> command, Map<String, String> environment, LineSink output) throws IOException;

    /** A started process. */
    interface Child {
        long pid();

        /** The exit code once it has exited, else null. Exit by signal N reads 128 + N. */
        Integer exitCode();

        /** SIGTERM: a worker's warm shutdown. */
        void terminate();

        /** SIGKILL. */
        void kill();
    }

    /** Receives a process's output, line by line. */
    interface LineSink {
        void line(String processName, String line);
    }
}
