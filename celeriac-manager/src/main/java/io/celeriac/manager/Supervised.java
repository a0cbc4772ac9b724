package io.celeriac.manager;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One supervised process and its state machine, advanced only by {@link #tick} and the two
 * requests. The edges:
 *
 * <pre>
 * STOPPED/EXITED/FATAL --start--> STARTING
 * STARTING --up startsecs--> RUNNING
 * STARTING --died--> BACKOFF (1 s, 2 s, 4 s …) | FATAL after startretries failures in a row
 * RUNNING  --died--> EXITED --> BACKOFF (at once for a first crash, then 1 s, 2 s, … up to 60 s)
 * BACKOFF  --delay over--> STARTING
 * STARTING/RUNNING --stop--> STOPPING (SIGTERM) --exited--> STOPPED; --stopwaitsecs--> SIGKILL
 * BACKOFF  --stop--> STOPPED
 * </pre>
 *
 * A process that dies five times within ten minutes is a crash loop: one alert, not one per crash.
 */
final class Supervised {
    private static final Logger log = LoggerFactory.getLogger("celeriac.manager");
    static final Duration MAX_BACKOFF = Duration.ofSeconds(60);
    static final Duration CRASH_WINDOW = Duration.ofMinutes(10);
    static final int CRASH_LOOP = 5;

    final String name;
    final ProgramSpec spec;
    private final Launcher launcher;
    private final Launcher.LineSink output;
    private final SupervisorEvents events;

    private ProcessState state = ProcessState.STOPPED;
    private Launcher.Child child;
    private Instant startedAt;
    private Instant stateSince;
    private Instant nextStart;
    private Instant killAt;
    private int startFailures;
    private int restarts;
    private String lastExit = "";
    private final Deque<Instant> crashes = new ArrayDeque<>();
    private boolean crashLoopReported;

    Supervised(String name, ProgramSpec spec, Launcher launcher, Launcher.LineSink output, SupervisorEvents events, Instant now) {
        this.name = name;
        this.spec = spec;
        this.launcher = launcher;
        this.output = output;
        this.events = events;
        this.stateSince = now;
    }

    synchronized ProcessState state() {
        return state;
    }

    synchronized ProcessStatus status(Instant now) {
        Long pid = child != null && (state == ProcessState.STARTING || state == ProcessState.RUNNING || state == ProcessState.STOPPING)
                ? child.pid() : null;
        Duration uptime = pid != null && startedAt != null ? Duration.between(startedAt, now) : null;
        return new ProcessStatus(name, spec.name(), spec.kind(), state, pid, uptime, restarts, lastExit, stateSince);
    }

    synchronized void requestStart(Instant now) {
        if (state == ProcessState.STOPPED || state == ProcessState.EXITED || state == ProcessState.FATAL) {
            startFailures = 0;
            spawn(now);
        }
    }

    synchronized void requestStop(Instant now) {
        switch (state) {
            case STARTING, RUNNING -> {
                child.terminate();
                killAt = now.plus(spec.stopwaitsecs());
                move(ProcessState.STOPPING, now, "SIGTERM sent; SIGKILL in " + spec.stopwaitsecs().toSeconds() + " s if still running");
            }
            case BACKOFF, EXITED -> move(ProcessState.STOPPED, now, "stopped while waiting to restart");
            default -> {
                // already stopped, stopping or fatal
            }
        }
    }

    synchronized void tick(Instant now) {
        switch (state) {
            case STARTING -> {
                Integer code = child.exitCode();
                if (code != null) {
                    lastExit = describe(code);
                    startFailures++;
                    if (startFailures > spec.startretries()) {
                        move(ProcessState.FATAL, now, "died within " + spec.startsecs().toMillis() + " ms of starting "
                                + startFailures + " times in a row (" + lastExit + "); giving up");
                        events.fatal(name, "exited too quickly " + startFailures + " times in a row, last " + lastExit);
                    } else {
                        Duration delay = Duration.ofSeconds(1L << Math.min(startFailures - 1, 6));
                        nextStart = now.plus(delay);
                        move(ProcessState.BACKOFF, now, "died while starting (" + lastExit + "); retry " + startFailures + "/"
                                + spec.startretries() + " in " + delay.toSeconds() + " s");
                    }
                } else if (!now.isBefore(startedAt.plus(spec.startsecs()))) {
                    startFailures = 0;
                    move(ProcessState.RUNNING, now, "pid " + child.pid() + ", up for " + spec.startsecs().toMillis() + " ms");
                }
            }
            case RUNNING -> {
                Integer code = child.exitCode();
                if (code != null) {
                    lastExit = describe(code);
                    move(ProcessState.EXITED, now, "exited unexpectedly (" + lastExit + ")");
                    crashes.addLast(now);
                    while (!crashes.isEmpty() && crashes.peekFirst().isBefore(now.minus(CRASH_WINDOW))) {
                        crashes.removeFirst();
                    }
                    if (crashes.size() >= CRASH_LOOP && !crashLoopReported) {
                        crashLoopReported = true;
                        events.crashLoop(name, crashes.size());
                    } else if (crashes.size() < CRASH_LOOP) {
                        crashLoopReported = false;
                    }
                    Duration delay = crashes.size() <= 1 ? Duration.ZERO
                            : min(Duration.ofSeconds(1L << Math.min(crashes.size() - 2, 6)), MAX_BACKOFF);
                    nextStart = now.plus(delay);
                    move(ProcessState.BACKOFF, now, "restarting in " + delay.toMillis() + " ms");
                }
            }
            case BACKOFF -> {
                if (!now.isBefore(nextStart)) {
                    restarts++;
                    spawn(now);
                }
            }
            case STOPPING -> {
                Integer code = child.exitCode();
                if (code != null) {
                    lastExit = describe(code);
                    move(ProcessState.STOPPED, now, "stopped (" + lastExit + ")");
                } else if (killAt != null && !now.isBefore(killAt)) {
                    log.warn("{}: still running {} s after SIGTERM: SIGKILL", name, spec.stopwaitsecs().toSeconds());
                    child.kill();
                    killAt = null;
                }
            }
            default -> {
                // STOPPED, EXITED (moves on at once), FATAL: nothing to do until asked
            }
        }
    }

    private void spawn(Instant now) {
        try {
            List<String> command = spec.command().stream().map(a -> a.replace(Programs.PROCESS_NAME, name)).toList();
            child = launcher.launch(name, command, spec.environment(), output);
            startedAt = now;
            move(ProcessState.STARTING, now, "pid " + child.pid());
        } catch (java.io.IOException | RuntimeException e) {
            lastExit = "could not start: " + e.getMessage();
            startFailures++;
            if (startFailures > spec.startretries()) {
                move(ProcessState.FATAL, now, lastExit + "; giving up");
                events.fatal(name, lastExit);
            } else {
                nextStart = now.plus(Duration.ofSeconds(1L << Math.min(startFailures - 1, 6)));
                move(ProcessState.BACKOFF, now, lastExit);
            }
        }
    }

    private void move(ProcessState to, Instant now, String why) {
        if (to == ProcessState.FATAL || to == ProcessState.EXITED || to == ProcessState.BACKOFF) {
            log.warn("{}: {} -> {}: {}", name, state, to, why);
        } else {
            log.info("{}: {} -> {}: {}", name, state, to, why);
        }
        state = to;
        stateSince = now;
    }

    /** "exit code 1", or "signal 9 (SIGKILL)" for 128 + 9. */
    static String describe(int code) {
        if (code > 128 && code < 160) {
            int sig = code - 128;
            String n = switch (sig) {
                case 9 -> "SIGKILL";
                case 15 -> "SIGTERM";
                case 2 -> "SIGINT";
                case 6 -> "SIGABRT";
                case 11 -> "SIGSEGV";
                default -> "signal " + sig;
            };
            return "signal " + sig + " (" + n + ")";
        }
        return "exit code " + code;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
