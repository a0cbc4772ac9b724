package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.RetryPolicy;
import io.celeriac.TaskDefinition;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The main loop of a process-pool child: load the app (an {@link AppGeneration}), then run one task
 * at a time on its task thread as the parent asks, and answer with its outcome; on {@code recycle},
 * drop the generation and load the app afresh. The parent does everything else (broker, results,
 * acks, hard limits), so a child that dies loses nothing but the task it was running.
 */
public final class ChildMain {
    private ChildMain() {
    }

    public static void main(String[] args) throws Exception {
        // The protocol owns the real stdout; anything a task prints goes to stderr (the worker's log).
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16));
        System.setOut(System.err);
        // the file itself under one buffer (System.in is a buffer already: one over it asks the pipe how much is left)
        DataInputStream in = new DataInputStream(new BufferedInputStream(new java.io.FileInputStream(FileDescriptor.in), 1 << 16));
        exitWhenParentDies();

        ObjectNode init = read(in);
        if (init == null || !"init".equals(init.path("op").asText())) {
            System.exit(3);
        }
        Thread.currentThread().setName("celeriac-child-" + init.path("index").asInt());
        Config config = settings(init.get("settings"));
        WorkerOptions options = WorkerOptions.from(config);
        List<String> appEntries = appClassPath();
        AppGeneration generation = AppGeneration.load(1, config, options, appEntries);
        AppPreloader preloader = new AppPreloader(config, options, appEntries);
        boolean reloads = !appEntries.isEmpty() && options.maxTasksPerChild() > 0;

        ObjectNode ready = Json.NODES.objectNode();
        ready.put("op", "ready");
        ready.put("pid", ProcessHandle.current().pid());
        write(out, ready);

        while (true) {
            AppGeneration g = generation;
            // the generation's task thread reads the frames itself and runs one task after another, so a task
            // costs no hand-off between threads; it comes back here for what only this thread does
            ObjectNode frame = g.run(() -> serve(in, out, g, config, options, reloads ? preloader : null));
            String op = frame == null ? "exit" : frame.path("op").asText();
            if ("recycle".equals(op)) {
                generation = recycle(generation, preloader, out);
                continue;
            }
            if (frame != null && !"exit".equals(op)) { // the parent sends no other frame: a worker of another version?
                System.err.println("celeriac child (pid " + ProcessHandle.current().pid() + "): unknown frame '" + op + "' from its worker; exiting");
                System.err.flush();
                Runtime.getRuntime().halt(3);
            }
            generation.close(); // exit, or the end of the stream
            System.exit(0);
        }
    }

    /**
     * On the generation's task thread: runs tasks as the parent sends them, answering each, until a
     * frame that is not a task ({@code recycle}, {@code exit}) or the end of the stream (null), which
     * it returns. With {@code preloader}, the next generation starts loading after the first task.
     */
    private static ObjectNode serve(DataInputStream in, DataOutputStream out, AppGeneration g, Config config,
            WorkerOptions options, AppPreloader preloader) {
        while (true) {
            ObjectNode frame = read(in);
            if (frame == null || !"run".equals(frame.path("op").asText())) {
                return frame;
            }
            write(out, encode(run(frame, g, config, options, out)));
            if (preloader != null) {
                preloader.start(g.number + 1); // the next one loads while this one works (once per generation)
            }
        }
    }

    /** The app's own class path entries, given by the parent when the app is recycled by class loader ({@link AppClassPath}). */
    private static List<String> appClassPath() {
        String p = System.getProperty(APP_CLASS_PATH, "");
        return p.isEmpty() ? List.of() : List.of(p.split(java.io.File.pathSeparator));
    }

    /** The system property that carries {@link AppClassPath#app} to the child. */
    static final String APP_CLASS_PATH = "celeriac.app_class_path";

    /**
     * Drops {@code old} (its loader, task thread, client) and takes the app loaded afresh (ahead, by
     * the {@link AppPreloader}, or now); answers
     * {@code recycled} with the new generation's number, the milliseconds it took and the threads
     * the old app left running. An app that no longer loads ends the child (exit code 3, its error
     * on stderr): the parent then starts a new JVM.
     */
    private static AppGeneration recycle(AppGeneration old, AppPreloader preloader, DataOutputStream out) throws InterruptedException {
        long t0 = System.nanoTime();
        old.close();
        List<String> stray = old.strayThreads();
        AppGeneration next;
        try {
            next = preloader.take(old.number + 1);
        } catch (RuntimeException e) {
            System.err.println("celeriac child (pid " + ProcessHandle.current().pid() + "): the app no longer loads: " + e.getMessage());
            System.err.flush();
            System.exit(3);
            return old;
        }
        ObjectNode recycled = Json.NODES.objectNode();
        recycled.put("op", "recycled");
        recycled.put("generation", next.number);
        recycled.put("ms", (System.nanoTime() - t0) / 1_000_000);
        recycled.set("stray_threads", Json.MAPPER.valueToTree(stray));
        write(out, recycled);
        return next;
    }

    /** One task, on the generation's task thread (a thread interrupted by a late soft limit is cleared by {@link TaskRunner}). */
    private static Outcome run(ObjectNode frame, AppGeneration g, Config config, WorkerOptions options, DataOutputStream out) {
        TaskMessage m = MessageCodec.decode(frame.get("payload").asText());
        Optional<TaskDefinition> task = g.registry.find(m.task());
        if (task.isEmpty()) { // the parent checks first; an app that differs between the two is a setup error
            return new Outcome.Failure(io.celeriac.protocol.ExceptionInfo.of("NotRegistered", "celery.exceptions", m.task()));
        }
        RequestContext ctx = new RequestContext(m, options.nodeName(), RetryPolicy.of(task.get().options(), config),
                Clock.systemUTC(), g.client).deliveries(frame.path("deliveries").asInt(1))
                .states(r -> write(out, stateFrame(r)), options.trackStarted(task.get(), m));
        Outcome outcome = TaskRunner.run(task.get(), ctx, Duration.ofMillis(frame.path("soft_ms").asLong()));
        if (outcome instanceof Outcome.Success s) { // a result over the limit is not sent to the parent at all
            outcome = withinLimit(m.task(), s, config.get(io.celeriac.config.Settings.TASK_PAYLOAD_MAX_BYTES));
        }
        return outcome;
    }

    /** The parent's next frame; null at the end of the stream (the parent exited). */
    private static ObjectNode read(DataInputStream in) {
        try {
            return Frames.read(in);
        } catch (java.io.IOException e) {
            parentGone(e);
            return null;
        }
    }

    private static void write(DataOutputStream out, ObjectNode frame) {
        try {
            synchronized (out) { // a task's own threads may report its state
                Frames.write(out, frame);
            }
        } catch (java.io.IOException e) { // "Broken pipe": the worker was killed
            parentGone(e);
        }
    }

    /**
     * The worker is gone (killed; its end of the pipes closed): nobody can take this child's answer,
     * and the worker's messages come back to the broker without it. One line in the log, and out.
     */
    private static void parentGone(java.io.IOException e) {
        System.err.println("celeriac child (pid " + ProcessHandle.current().pid() + "): its worker is gone (pipe closed); exiting");
        System.err.flush();
        Runtime.getRuntime().halt(4);
    }

    /** The success, or a FAILURE LimitExceeded when its value is over task_payload_max_bytes. */
    static Outcome withinLimit(String task, Outcome.Success s, long limit) {
        String over = io.celeriac.protocol.PayloadLimit.resultOver(task, s.value(), limit);
        return over == null ? s : new Outcome.Failure(io.celeriac.protocol.ExceptionInfo.of("LimitExceeded", "kombu.exceptions",
                "not stored: the " + over + "; return a reference to the data (a path, a URL, a key) or raise the limit"));
    }

    /** A state the task stored while it runs (STARTED, progress), for the parent to store. */
    static ObjectNode stateFrame(io.celeriac.protocol.TaskResult r) {
        ObjectNode o = Json.NODES.objectNode();
        o.put("op", "state");
        o.put("state", r.state().name());
        o.set("meta", r.result());
        return o;
    }

    /** The parent's view of a {@link #stateFrame}, for task {@code taskId}; null when {@code frame} is not one. */
    static io.celeriac.protocol.TaskResult stateOf(String taskId, ObjectNode frame) {
        if (!"state".equals(frame.path("op").asText())) {
            return null;
        }
        return new io.celeriac.protocol.TaskResult(taskId, io.celeriac.TaskState.parse(frame.path("state").asText()),
                frame.get("meta"), null, null, null);
    }

    static ObjectNode encode(Outcome outcome) {
        ObjectNode o = Json.NODES.objectNode();
        if (outcome instanceof Outcome.Success s) {
            o.put("op", "success");
            o.set("value", s.value());
        } else if (outcome instanceof Outcome.RetryLater r) {
            o.put("op", "retry");
            o.put("eta", CeleryTime.format(r.eta()));
            o.set("exc", r.cause() == null ? null : exc(r.cause()));
        } else if (outcome instanceof Outcome.Failure f) {
            o.put("op", "failure");
            o.set("exc", exc(f.exception()));
        } else {
            throw new IllegalArgumentException("a child does not report " + outcome);
        }
        return o;
    }

    private static ObjectNode exc(io.celeriac.protocol.ExceptionInfo e) {
        ObjectNode j = e.toJson();
        j.put("traceback", e.traceback());
        return j;
    }

    /** The parent's view of a child's answer. */
    static Outcome decode(ObjectNode frame) {
        switch (frame.path("op").asText()) {
            case "success":
                return new Outcome.Success(frame.get("value"));
            case "retry":
                JsonNode exc = frame.get("exc");
                return new Outcome.RetryLater(CeleryTime.parse(frame.get("eta").asText()),
                        exc == null || exc.isNull() ? null : exceptionOf(exc));
            case "failure":
                return new Outcome.Failure(exceptionOf(frame.get("exc")));
            default:
                return new Outcome.Lost("the child sent an unknown frame: " + frame);
        }
    }

    private static io.celeriac.protocol.ExceptionInfo exceptionOf(JsonNode exc) {
        JsonNode tb = exc.get("traceback");
        return io.celeriac.protocol.ExceptionInfo.fromJson(exc, tb == null || tb.isNull() ? null : tb.asText());
    }

    private static Config settings(JsonNode settings) {
        Config.Builder b = Config.builder();
        if (settings != null) {
            for (Map.Entry<String, JsonNode> e : settings.properties()) {
                b.setRaw(e.getKey(), Json.MAPPER.convertValue(e.getValue(), Object.class), "the parent worker");
            }
        }
        return b.build();
    }

    /** If the parent is killed (even with SIGKILL) its children must not linger. */
    private static void exitWhenParentDies() {
        Optional<ProcessHandle> parent = ProcessHandle.current().parent();
        if (parent.isEmpty()) {
            return;
        }
        Thread watch = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                if (!parent.get().isAlive()) {
                    Runtime.getRuntime().halt(4);
                }
            }
        }, "celeriac-parent-watch");
        watch.setDaemon(true);
        watch.start();
    }

    /** The app's client in a child, opened on first use (most tasks never send tasks). */
    static final class Lazy implements java.util.function.Supplier<Celeriac> {
        private final Config config;
        private final TaskRegistry registry;
        private Celeriac app;

        Lazy(Config config, TaskRegistry registry) {
            this.config = config;
            this.registry = registry;
        }

        @Override
        public synchronized Celeriac get() {
            if (app == null) {
                app = Celeriac.connect(config, registry); // as the parent worker's: never eager
            }
            return app;
        }

        synchronized void close() {
            if (app != null) {
                app.close();
            }
        }
    }
}
