package io.celeriac.manager;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.celeriac.ConfigException;

/**
 * Every supervised process of every program, advanced together by one loop ({@link #tick}), as
 * supervisord does. Thread-safe: requests may come from the control socket while the loop runs.
 */
public final class Supervisor {
    private final Map<String, Supervised> processes = new LinkedHashMap<>();
    private final Map<String, List<Supervised>> byProgram = new LinkedHashMap<>();
    private final Clock clock;

    public Supervisor(List<ProgramSpec> programs, Launcher launcher, Launcher.LineSink output, SupervisorEvents events, Clock clock) {
        this.clock = clock;
        Instant now = clock.instant();
        for (ProgramSpec p : programs) {
            List<Supervised> list = new ArrayList<>();
            for (String name : p.processNames()) {
                Supervised s = new Supervised(name, p, launcher, output, events, now);
                processes.put(name, s);
                list.add(s);
            }
            byProgram.put(p.name(), list);
        }
    }

    public synchronized void startAll() {
        processes.values().forEach(p -> p.requestStart(clock.instant()));
    }

    public synchronized void stopAll() {
        processes.values().forEach(p -> p.requestStop(clock.instant()));
    }

    /** The processes of a program, or one process, by name; a {@link ConfigException} for an unknown name. */
    synchronized List<Supervised> select(String name) {
        if (name == null) {
            return List.copyOf(processes.values());
        }
        if (byProgram.containsKey(name)) {
            return byProgram.get(name);
        }
        if (processes.containsKey(name)) {
            return List.of(processes.get(name));
        }
        throw new ConfigException("no program named '" + name + "' (programs: " + String.join(", ", byProgram.keySet()) + ")");
    }

    public synchronized void start(String name) {
        select(name).forEach(p -> p.requestStart(clock.instant()));
    }

    public synchronized void stop(String name) {
        select(name).forEach(p -> p.requestStop(clock.instant()));
    }

    public synchronized void tick() {
        Instant now = clock.instant();
        processes.values().forEach(p -> p.tick(now));
    }

    /** True when no process runs (all STOPPED, EXITED-and-not-wanted, or FATAL). */
    public synchronized boolean allDown() {
        return processes.values().stream().allMatch(p -> p.state() == ProcessState.STOPPED || p.state() == ProcessState.FATAL);
    }

    public synchronized boolean allDown(String name) {
        return select(name).stream().allMatch(p -> p.state() == ProcessState.STOPPED || p.state() == ProcessState.FATAL);
    }

    public synchronized List<ProcessStatus> status() {
        Instant now = clock.instant();
        return processes.values().stream().map(p -> p.status(now)).toList();
    }

    public synchronized List<String> programNames() {
        return List.copyOf(byProgram.keySet());
    }
}
