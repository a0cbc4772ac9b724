package io.celeriac.cli;

import io.celeriac.ConfigException;
import io.celeriac.manager.ProcessId;
import io.celeriac.protocol.TaskMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * Celery's {@code --detach}, {@code --pidfile} and {@code --logfile} for {@code worker} and {@code beat}.
 * Java cannot fork, so {@code --detach} starts the same command line again as a process of its own
 * session ({@code setsid} where there is one), stdin from /dev/null, output appended to the log file,
 * and returns at once; that process, told by {@link #DETACHED_ENV} that it is the detached one, runs in
 * the foreground. The pid file is written by the process that runs (its own pid), refused while it
 * names a live process, replaced when stale, and removed on exit. In a path, as in Celery, {@code %h}
 * is the node name (worker1@host), {@code %n} its name part, {@code %d} its host part, {@code %%} a percent sign.
 */
final class DaemonOptions {
    /** Set for the process {@code --detach} starts: it runs in the foreground. */
    static final String DETACHED_ENV = "CELERIAC_DETACHED";

    @Option(names = {"-D", "--detach"}, description = "Start in the background (own session, output to --logfile) and return at once.")
    boolean detach;

    @Option(names = "--pidfile", paramLabel = "FILE", description = "Write this process's pid to FILE (refused while FILE names a live process; removed on exit).")
    String pidFile;

    @Option(names = {"-f", "--logfile"}, paramLabel = "FILE", description = "Log to FILE instead of standard error (%h: node name, %n: its name part).")
    String logFile;

    private Path writtenPid;

    /**
     * Before a worker or beat named {@code node} runs: the exit code when this process is done
     * (it started the detached copy, or the pid file names a live process); empty when it is to run
     * here, its pid file written and its log lines going to the log file.
     */
    Optional<Integer> begin(CommandSpec spec, String node) throws IOException {
        Path pid = path("--pidfile", pidFile, node);
        Path log = path("--logfile", logFile, node);
        if (pid != null) {
            Optional<Long> live = livePid(pid);
            if (live.isPresent()) {
                spec.commandLine().getErr().println("celeriac: pid file " + pid + " names a live process (pid " + live.get()
                        + "): already running? (remove the file if that process is not this " + spec.name() + ")");
                return Optional.of(Main.ALREADY_RUNNING);
            }
        }
        if (log != null) {
            Files.createDirectories(log.toAbsolutePath().getParent());
            if (Files.exists(log) ? !Files.isWritable(log) : !Files.isWritable(log.toAbsolutePath().getParent())) {
                throw new ConfigException("--logfile '" + log + "' is not writable");
            }
        }
        if (detach && System.getenv(DETACHED_ENV) == null) {
            return Optional.of(detach(spec, node, log));
        }
        if (log != null) {
            Logging.toFile(log);
        }
        if (pid != null) {
            writePid(pid);
        }
        return Optional.empty();
    }

    /** Removes the pid file this process wrote (also done at exit, should the command not get here). */
    void end() {
        Path p = writtenPid;
        writtenPid = null;
        if (p != null && ownPid(p)) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // left behind: the next start sees a stale pid and replaces it
            }
        }
    }

    private int detach(CommandSpec spec, String node, Path log) throws IOException {
        Map<String, String> env = new HashMap<>(Map.of(DETACHED_ENV, "1"));
        if (log != null) {
            env.put(LogSetup.LOG_FILE_ENV, log.toAbsolutePath().toString()); // its pool's children log there too
        }
        Process p = ManagerContext.startInOwnSession(spec.root().commandLine().getParseResult().originalArgs(),
                log == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.appendTo(log.toFile()), env);
        spec.commandLine().getOut().println("celeriac: " + spec.name() + " " + node + " detached (pid " + p.pid() + ")"
                + (log == null ? "; no --logfile: its output is discarded" : "; logs in " + log.toAbsolutePath()));
        return Main.OK;
    }

    private void writePid(Path pid) throws IOException {
        String self = ProcessHandle.current().pid() + "\n";
        Path abs = pid.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        for (int attempt = 0; ; attempt++) {
            try {
                Files.writeString(abs, self, StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
                break;
            } catch (FileAlreadyExistsException e) {
                Optional<Long> live = livePid(abs);
                if (live.isPresent() || attempt > 2) { // another one started in between
                    throw new ConfigException("--pidfile '" + pid + "' names a live process (pid " + live.orElse(0L) + "): already running?");
                }
                Files.deleteIfExists(abs); // stale: its process is gone
            }
        }
        writtenPid = abs;
        Runtime.getRuntime().addShutdownHook(new Thread(this::end, "celeriac-pidfile"));
    }

    /** The pid a pid file names, when that process is alive and is not this one. */
    private static Optional<Long> livePid(Path pid) {
        try {
            String s = Files.readString(pid, StandardCharsets.US_ASCII).trim();
            long n = Long.parseLong(s.split("\\s+")[0]);
            return n != ProcessHandle.current().pid() && ProcessId.of(n).isPresent() ? Optional.of(n) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // none, unreadable or not a number: stale
        }
    }

    private static boolean ownPid(Path pid) {
        try {
            return Files.readString(pid, StandardCharsets.US_ASCII).trim().equals(Long.toString(ProcessHandle.current().pid()));
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code value} with Celery's {@code %h} (node name), {@code %n} (its name part), {@code %d} (its host part) and {@code %%}; null when not given. */
    static Path path(String flag, String value, String node) {
        if (value == null) {
            return null;
        }
        if (value.isBlank()) {
            throw new ConfigException(flag + ": empty file name");
        }
        int at = node.indexOf('@');
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%' && i + 1 < value.length()) {
                char n = value.charAt(++i);
                switch (n) {
                    case 'h' -> b.append(node);
                    case 'n' -> b.append(at < 0 ? node : node.substring(0, at));
                    case 'd' -> b.append(at < 0 ? TaskMessage.hostName() : node.substring(at + 1));
                    case '%' -> b.append('%');
                    default -> throw new ConfigException(flag + " '" + value + "': unknown placeholder %" + n + " (%h, %n, %d or %%)");
                }
            } else {
                b.append(c);
            }
        }
        return Path.of(b.toString());
    }
}
