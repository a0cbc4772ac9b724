package io.celeriac.manager;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A process as the OS knows it: its pid and its start time, so that a pid the kernel has since
 * given to another process is not mistaken for the one recorded. On Linux the start time is field 22
 * of {@code /proc/PID/stat} (clock ticks since boot, exact and stable); elsewhere it is the start
 * instant {@link ProcessHandle.Info} reports, in milliseconds. A zombie (exited, not yet reaped) is
 * not alive.
 */
public record ProcessId(long pid, long startTime) {

    /** This process. */
    public static ProcessId current() {
        long pid = ProcessHandle.current().pid();
        return of(pid).orElse(new ProcessId(pid, 0));
    }

    /** The live process with this pid, if there is one. */
    public static Optional<ProcessId> of(long pid) {
        if (pid <= 0) {
            return Optional.empty();
        }
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (Files.isDirectory(Path.of("/proc/self"))) {
            try {
                String s = Files.readString(stat, StandardCharsets.UTF_8);
                // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'
                String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
                String state = f[0]; // field 3
                if (state.equals("Z") || state.equals("X") || state.equals("x")) {
                    return Optional.empty();
                }
                return Optional.of(new ProcessId(pid, Long.parseLong(f[19]))); // field 22, starttime
            } catch (IOException | RuntimeException e) {
                return Optional.empty(); // no such process (or it went while being read)
            }
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .map(h -> new ProcessId(pid, h.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L)));
    }

    /** "PID:START", as recorded in files and handed to the programs. */
    public static Optional<ProcessId> parse(String s) {
        if (s == null) {
            return Optional.empty();
        }
        String[] p = s.trim().split("[: ]", 2);
        try {
            return Optional.of(new ProcessId(Long.parseLong(p[0].trim()), p.length > 1 ? Long.parseLong(p[1].trim()) : 0));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** True while this very process (same pid, same start time) runs. */
    public boolean alive() {
        return of(pid).filter(p -> startTime == 0 || p.startTime == startTime).isPresent();
    }

    /** SIGTERM, only if it is still this process. */
    public boolean terminate() {
        return alive() && ProcessHandle.of(pid).map(ProcessHandle::destroy).orElse(false);
    }

    /** SIGKILL, only if it is still this process. */
    public boolean kill() {
        return alive() && ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false);
    }

    @Override
    public String toString() {
        return pid + ":" + startTime;
    }
}
