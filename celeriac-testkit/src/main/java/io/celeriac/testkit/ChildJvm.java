package io.celeriac.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Starts a real JVM process with this test's class path, for tests that kill, signal and restart
 * processes. Output (stdout and stderr together) goes to a log file the test can show on failure.
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final Path log;

    private ChildJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static ChildJvm start(String mainClass, List<String> args, Map<String, String> env, Path log) throws IOException {
        return start(List.of(), mainClass, args, env, log);
    }

    /** As {@link #start(String, List, Map, Path)}, with JVM options after the usual ones (a later {@code -Xmx} wins). */
    public static ChildJvm start(List<String> jvmOptions, String mainClass, List<String> args, Map<String, String> env, Path log)
            throws IOException {
        return start(entry -> true, jvmOptions, mainClass, args, env, log);
    }

    /**
     * As {@link #start(List, String, List, Map, Path)}, with only the entries of this test's class path
     * that {@code classPath} keeps (a child that must not see a jar, say).
     */
    public static ChildJvm start(Predicate<String> classPath, List<String> jvmOptions, String mainClass, List<String> args,
            Map<String, String> env, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Surefire may run tests from a manifest-only jar; it keeps the real class path here.
        String cp = Arrays.stream(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                .split(File.pathSeparator)).filter(classPath).collect(Collectors.joining(File.pathSeparator));
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", cp, mainClass));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("CELERIAC_"));
        pb.environment().putAll(env);
        return new ChildJvm(pb.start(), log);
    }

    /**
     * The arguments a process was started with, read from {@code /proc/PID/cmdline}: {@code ProcessHandle.info()}
     * gives none for a long command line (a class path of many jars), so tests that pick processes by their
     * main class or arguments use this. Empty when the process is gone.
     */
    public static java.util.List<String> commandLine(ProcessHandle p) {
        try {
            byte[] raw = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc", Long.toString(p.pid()), "cmdline"));
            java.util.List<String> args = new java.util.ArrayList<>();
            int from = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    args.add(new String(raw, from, i - from, java.nio.charset.StandardCharsets.UTF_8));
                    from = i + 1;
                }
            }
            return args;
        } catch (IOException | RuntimeException e) {
            return java.util.List.of();
        }
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hook, no cleanup, like a crash or the OOM killer. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: what supervisors and {@code systemctl stop} send. */
    public void sigterm() {
        process.destroy();
    }

    public boolean waitFor(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS);
    }

    public int exitCode() {
        return process.exitValue();
    }

    /** The process's output so far. */
    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(could not read " + log + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                kill9();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
