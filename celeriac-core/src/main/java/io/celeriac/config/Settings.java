package io.celeriac.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Map;

/**
 * The settings table: the single source of every setting's name, type, default and documentation.
 * YAML keys, {@code CELERIAC_*} environment variables, {@code --set name=value} flags and
 * {@code docs/SETTINGS.md} are all derived from (or checked against) these rows.
 */
public final class Settings {
    private Settings() {
    }

    private static final Map<String, Setting<?>> ALL = new LinkedHashMap<>();

    private static <T> Setting<T> define(String name, ValueType<T> type, T defaultValue, String doc) {
        return define(name, type, defaultValue, null, doc);
    }

    private static <T> Setting<T> define(String name, ValueType<T> type, T defaultValue, String defaultDoc, String doc) {
        Setting<T> s = new Setting<>(name, type, defaultValue, defaultDoc, doc);
        if (ALL.put(name, s) != null) {
            throw new IllegalStateException("setting defined twice: " + name);
        }
        return s;
    }

    // --- application -------------------------------------------------------------------------

    public static final Setting<String> APP = define("app", ValueType.string(), "",
            "(the apps listed on the class path)",
            "Class name of the CeleriacApp that registers the tasks (Celery's -A); its jar goes on CELERIAC_CLASSPATH."
                    + " Empty: every app found on the class path through META-INF/services/io.celeriac.CeleriacApp."
                    + " celeriac.jar carries no app (a worker without one exits 2); celeriac demo runs the example app.");

    public static final Setting<String> LOG_LEVEL = define("log_level",
            ValueType.oneOf("TRACE", "DEBUG", "INFO", "WARNING", "ERROR"), "INFO",
            "Lowest level of log lines written (Celery's --loglevel).");

    public static final Setting<String> LOG_FORMAT = define("log_format",
            ValueType.oneOf("text", "json"), "text",
            "How log lines are written: text (Celery's format) or json (one JSON object per line: timestamp, level,"
                    + " logger, thread, message, exception; task_id, task_name and worker in every line a task logs)."
                    + " For every command: a worker and its pool's children, beat, the manager.");

    // --- broker and results ------------------------------------------------------------------

    public static final Setting<String> BROKER_URL = define("broker_url", ValueType.url(), "sqlite:celeriac.db",
            "Where tasks are queued. sqlite:PATH is the embedded broker (one file shared by every process on this"
                    + " machine; a relative PATH is taken from the working directory); redis://[:password@]host:port/db,"
                    + " rediss://… (TLS) and redis-sentinel://host:port,…/db?master=NAME share Redis with Python Celery;"
                    + " postgresql://user:password@host:port/database?sslmode=… keeps queues and results in PostgreSQL"
                    + " (workers on many machines); memory://NAME is in-process only.");

    public static final Setting<String> RESULT_BACKEND = define("result_backend", ValueType.url(), "",
            "(same as broker_url)",
            "Where task results are stored. Empty: the broker_url store.");

    public static final Setting<String> COORDINATION_URL = define("coordination_url", ValueType.url(), "",
            "(result_backend, else broker_url)",
            "Where workers record their presence (heartbeats) and revocations, and beat its leader lock and last"
                    + " runs: any scheme a broker module serves (sqlite:, postgresql://, redis://, memory://). Empty: the"
                    + " result_backend store, else the broker_url store. Every process of a deployment must use the same.");

    public static final Setting<Duration> RESULT_EXPIRES = define("result_expires",
            ValueType.duration(Duration.ofSeconds(1)), Duration.ofDays(1),
            "How long a stored result is kept after the task finished.");

    public static final Setting<Boolean> RESULT_EXTENDED = define("result_extended", ValueType.bool(), false,
            "Also store each task's name, args and kwargs with its result (as Celery's result_extended). A result"
                    + " always says which worker ran it (worker), its retries and its runtime in seconds.");

    public static final Setting<Duration> RESULT_TIMEOUT = define("result_timeout",
            ValueType.duration(Duration.ZERO), Duration.ofMinutes(1),
            "How long a typed client's blocking call (a method of app.client(Interface.class) that returns the"
                    + " task's value, or TypedResult.get() without a time-out) waits for the result before it throws"
                    + " ResultTimeoutException; @TaskClient(resultTimeout = …) overrides it for one interface.");

    public static final Setting<Boolean> TASK_HISTORY = define("task_history", ValueType.bool(), false,
            "Workers record every task they receive and run (name, args, kwargs, state, result or exception, retries,"
                    + " runtime, worker, canvas parents and children) in a task history kept beside the results, for the"
                    + " dashboard's task list; it survives restarts. Recorded in batches off the task's path; a history that"
                    + " cannot be written costs records, never tasks.");

    public static final Setting<Duration> TASK_HISTORY_RETENTION = define("task_history_retention",
            ValueType.duration(Duration.ofMinutes(1)), Duration.ofDays(7),
            "How long the task history keeps a task after its last change.");

    public static final Setting<Integer> TASK_HISTORY_MAX = define("task_history_max", ValueType.integer(1000, Integer.MAX_VALUE),
            1_000_000, "The most tasks the task history keeps; the oldest go first.");

    public static final Setting<Duration> BROKER_RECOVERY_TIMEOUT = define("broker_recovery_timeout",
            ValueType.duration(Duration.ofMillis(100)), Duration.ofSeconds(30),
            "Lease on a reserved message. A worker renews its leases with every heartbeat; when it dies, its"
                    + " unacknowledged messages are delivered again this long after its last heartbeat.");

    public static final Setting<Duration> BROKER_VISIBILITY_TIMEOUT = define("broker_visibility_timeout",
            ValueType.duration(Duration.ofSeconds(1)), Duration.ofHours(1),
            "Redis: kombu's visibility timeout. A message a Python Celery consumer took and did not ack is delivered"
                    + " again after this long, as kombu does (Celeriac's own consumers use broker_recovery_timeout).");

    public static final Setting<Duration> BROKER_PUBLISH_RETRY_TIMEOUT = define("broker_publish_retry_timeout",
            ValueType.duration(Duration.ZERO), Duration.ofSeconds(30),
            "How long a client keeps retrying a send while the broker is unreachable (with back-off, logging one line"
                    + " when it starts and one when it recovers) before the send fails. 0: fail at once (Celery:"
                    + " task_publish_retry_policy).");

    public static final Setting<Integer> TASK_QUEUE_MAX_PRIORITY = define("task_queue_max_priority", ValueType.integer(0, 255), 0,
            "(none)",
            "RabbitMQ: the x-max-priority argument of every queue Celeriac declares (Celery's task_queue_max_priority);"
                    + " without it RabbitMQ ignores priorities. 0: none, as Celery declares by default. A queue that exists"
                    + " with other arguments is used as it is (one warning): RabbitMQ refuses a second declaration.");

    public static final Setting<String> TASK_DEFAULT_QUEUE_TYPE = define("task_default_queue_type",
            ValueType.oneOf("classic", "quorum"), "classic",
            "RabbitMQ: the x-queue-type of every queue Celeriac declares (Celery 5.5's task_default_queue_type). quorum:"
                    + " replicated queues (no priorities; a poison message is still counted and dead-lettered by Celeriac).");

    // --- tasks -------------------------------------------------------------------------------

    public static final Setting<String> TASK_DEFAULT_QUEUE = define("task_default_queue", ValueType.string(), "celery",
            "Queue a task is sent to when neither the call nor the task names one.");

    public static final Setting<Boolean> TASK_ACKS_LATE = define("task_acks_late", ValueType.bool(), true,
            "Acknowledge a message after its task finished (at-least-once; a task cut off by a crash runs again)."
                    + " false acknowledges when the task starts (at-most-once), Celery's default.");

    public static final Setting<Boolean> TASK_TRACK_STARTED = define("task_track_started", ValueType.bool(), false,
            "Store state STARTED, with the pid and hostname of the run, when a worker begins a task (per task:"
                    + " trackStarted); not for a task whose result is ignored.");

    public static final Setting<Integer> TASK_MAX_RETRIES = define("task_max_retries",
            ValueType.integer(0, Integer.MAX_VALUE), 3,
            "How many times a task may be retried before it is recorded as FAILURE (per task: maxRetries).");

    public static final Setting<Duration> TASK_DEFAULT_RETRY_DELAY = define("task_default_retry_delay",
            ValueType.duration(Duration.ZERO), Duration.ofSeconds(180),
            "Delay before a retry requested without a countdown.");

    public static final Setting<List<String>> TASK_AUTORETRY_FOR = define("task_autoretry_for", ValueType.names(), List.of(),
            "Exception types after which a task retries by itself (per task: autoretryFor). Fully qualified class names;"
                    + " simple names are looked up in java.lang, java.io, java.net, java.util.concurrent (the seed: [Exception]).");

    public static final Setting<List<String>> TASK_DONT_AUTORETRY_FOR = define("task_dont_autoretry_for", ValueType.names(),
            List.of(), "Exception types that never cause an automatic retry, even when they match task_autoretry_for.");

    public static final Setting<Duration> TASK_RETRY_BACKOFF = define("task_retry_backoff", ValueType.backoff(), Duration.ZERO,
            "Exponential back-off for retries: true (1 s, 2 s, 4 s, …), a base duration, or false (task_default_retry_delay"
                    + " every time). Applies to automatic retries and to TaskContext.retry(exc) without a countdown.");

    public static final Setting<Duration> TASK_RETRY_BACKOFF_MAX = define("task_retry_backoff_max",
            ValueType.duration(Duration.ZERO), Duration.ofSeconds(600),
            "The longest back-off delay.");

    public static final Setting<Boolean> TASK_RETRY_JITTER = define("task_retry_jitter", ValueType.bool(), true,
            "Randomise each back-off delay between 0 and its computed value, so tasks that failed together do not retry together.");

    public static final Setting<Duration> TASK_SOFT_TIME_LIMIT = define("task_soft_time_limit", ValueType.limit(), Duration.ZERO,
            "After this long the task's thread is interrupted and SoftTimeLimitExceeded raised, which the task can catch"
                    + " to clean up (seed: 4m). 0 or none: no limit.");

    public static final Setting<Duration> TASK_TIME_LIMIT = define("task_time_limit", ValueType.limit(), Duration.ZERO,
            "After this long the task is stopped for real and recorded as FAILURE TimeLimitExceeded (process pool: its"
                    + " child is killed; thread pool: its thread is abandoned). 0 or none: no limit (seed: 5m).");

    public static final Setting<Boolean> TASK_DEAD_LETTER_ON_FAILURE = define("task_dead_letter_on_failure", ValueType.bool(),
            false, "Also put a task that ended in FAILURE (retries used up) in the dead-letter queue, with its exception.");

    public static final Setting<Boolean> TASK_REJECT_ON_WORKER_LOST = define("task_reject_on_worker_lost", ValueType.bool(),
            true, "With late acks, a task whose child process died while running it (killed, out of memory, a crash;"
                    + " in the thread pool: the worker's JVM out of memory) is put back on the queue, and recorded as FAILURE"
                    + " WorkerLostError only after task_worker_lost_limit such deaths. false: FAILURE WorkerLostError at once,"
                    + " never run again (Celery's default, for tasks that must not run twice).");

    public static final Setting<Integer> TASK_WORKER_LOST_LIMIT = define("task_worker_lost_limit",
            ValueType.integer(1, 1000), 3,
            "A message that was running each time its worker or child died this many times goes to the dead-letter"
                    + " queue instead of running again, and its result is FAILURE WorkerLostError naming the last death's cause"
                    + " (an OutOfMemoryError, a signal, an exit code) where the worker could record it.");

    public static final Setting<Integer> TASK_PAYLOAD_MAX_BYTES = define("task_payload_max_bytes",
            ValueType.integer(1024, 256 * 1024 * 1024), 12 * 1024 * 1024,
            "Largest task payload, in bytes: a message's arguments (its JSON body [args, kwargs, embed], before"
                    + " base64) and a task's result (its JSON). A client refuses to send a bigger message"
                    + " (MessageTooLargeException; the CLI exits 2), a worker dead-letters one with a FAILURE"
                    + " LimitExceeded result, and a bigger result is stored as FAILURE LimitExceeded. 12 MiB: a 10 MiB"
                    + " argument fits.");

    public static final Setting<String> TASK_DEAD_LETTER_QUEUE = define("task_dead_letter_queue", ValueType.string(),
            "celeriac.dead_letter",
            "Queue that receives messages no worker can run (malformed, unknown task), each with the reason.");

    public static final Setting<List<Object>> TASK_ROUTES = define("task_routes", ValueType.routes(), List.of(),
            "Where tasks are sent, as Celery's task_routes: task name or glob (fnmatch: *, ?, [seq]) → queue name or"
                    + " {queue: NAME} (routing_key stands for the queue when there is no queue; exchange is ignored);"
                    + " a mapping, or a list of mappings tried in order. Within one mapping an exact name wins over the"
                    + " globs, the globs in order. The call's queue comes first, then the task's own queue (@Task(queue),"
                    + " task_annotations), then the route, then task_default_queue. Used by clients, workers (chains,"
                    + " callbacks) and beat.");

    public static final Setting<Map<String, Object>> TASK_ANNOTATIONS = define("task_annotations",
            ValueType.mapping("a mapping of task name (or '*') → options", TaskAnnotations::parse), Map.of(),
            "Per-task options, as Celery's task_annotations: task name, or '*' for every task (but the built-in"
                    + " celery.* and celeriac.* ones), → {rate_limit, time_limit, soft_time_limit, max_retries,"
                    + " default_retry_delay, retry_backoff, retry_backoff_max, retry_jitter, acks_late, ignore_result,"
                    + " queue, priority}. They override the task's own @Task options; '*' is applied after the task's"
                    + " own entry (as Celery), so it wins where both set a key.");

    public static final Setting<Boolean> TASK_ALWAYS_EAGER = define("task_always_eager", ValueType.bool(), false,
            "Run every task sent in the sending thread at once, with no broker (as Celery's task_always_eager;"
                    + " for tests): send returns a result already holding the value, retries run at once, chains,"
                    + " groups and chords run in order. The broker_url and result_backend are not opened. For an app's"
                    + " clients (Celeriac.open; Celeriac.eager in tests) and celeriac call; workers and beat ignore it.");

    public static final Setting<Boolean> TASK_EAGER_PROPAGATES = define("task_eager_propagates", ValueType.bool(), false,
            "With task_always_eager: a task that fails makes send throw (its RuntimeException itself, else a"
                    + " TaskFailedException), instead of returning a FAILURE result, as Celery's task_eager_propagates.");

    // --- worker ------------------------------------------------------------------------------

    public static final Setting<String> WORKER_POOL = define("worker_pool", ValueType.oneOf("process", "threads"), "process",
            "Execution pool. process: worker_concurrency child JVMs, like Celery's prefork (isolation, hard time limits,"
                    + " recycling). threads: tasks run on threads of the worker itself, virtual threads where the JVM has them"
                    + " (Java 21+); for I/O-bound tasks.");

    public static final Setting<Integer> WORKER_CONCURRENCY = define("worker_concurrency",
            ValueType.integer(1, 10_000), Runtime.getRuntime().availableProcessors(), "(number of CPU cores)",
            "How many tasks a worker runs at once.");

    public static final Setting<List<Integer>> WORKER_AUTOSCALE = define("worker_autoscale", ValueType.autoscale(), List.of(),
            "(off)",
            "Celery's --autoscale MAX,MIN: the pool grows with the backlog (the messages this worker holds) up to MAX"
                    + " tasks at once and shrinks to no fewer than MIN when idle; it starts at MIN, and worker_concurrency"
                    + " is ignored (as Celery). The worker reserves MAX × worker_prefetch_multiplier messages ahead.");

    public static final Setting<Duration> WORKER_AUTOSCALE_KEEPALIVE = define("worker_autoscale_keepalive",
            ValueType.duration(Duration.ofMillis(100)), Duration.ofSeconds(30),
            "Autoscale: the pool shrinks only after it has had more slots than it needed for this long (Celery's"
                    + " AUTOSCALE_KEEPALIVE, 30 s).");

    public static final Setting<Integer> WORKER_PREFETCH_MULTIPLIER = define("worker_prefetch_multiplier",
            ValueType.integer(1, 10_000), 4,
            "A worker reserves up to worker_concurrency × this many messages ahead of running them.");

    public static final Setting<List<String>> WORKER_QUEUES = define("worker_queues", ValueType.names(), List.of(),
            "(task_default_queue)",
            "Queues a worker consumes (Celery's -Q), comma-separated or a YAML list.");

    public static final Setting<String> WORKER_HOSTNAME = define("worker_hostname", ValueType.string(), "",
            "(celeriac@HOST)",
            "Node name of a worker (Celery's -n), shown in heartbeats and results.");

    public static final Setting<Boolean> WORKER_SEND_TASK_EVENTS = define("worker_send_task_events", ValueType.bool(), false,
            "Send Celery's task events (task-received, -started, -succeeded, -failed, -retried, -revoked) and worker events"
                    + " (worker-online, -heartbeat, -offline), for `celeriac events` and, on Redis, Celery's own tools (worker -E).");

    public static final Setting<Integer> WORKER_METRICS_PORT = define("worker_metrics_port", ValueType.integer(0, 65535), 0,
            "A worker serves its own Prometheus metrics on this port: /metrics (tasks by name and outcome, runtime histograms,"
                    + " tasks running, pool size and children, child starts, retirements and losses, time-limit kills, retries,"
                    + " dead letters), /health/live and /health/ready (JSON; 200 when the broker and result store answer and the"
                    + " worker made progress within worker_liveness_timeout, else 503 naming the failing check). 0: off. Each"
                    + " worker on a host needs its own port.");

    public static final Setting<String> WORKER_METRICS_BIND = define("worker_metrics_bind", ValueType.string(), "127.0.0.1",
            "The address worker_metrics_port listens on: loopback by default; 0.0.0.0 for every interface (the endpoints"
                    + " show counts and health, no task arguments, and accept no commands).");

    public static final Setting<Boolean> TASK_SEND_SENT_EVENT = define("task_send_sent_event", ValueType.bool(), false,
            "A client sends a task-sent event for each task it sends.");

    public static final Setting<Duration> WORKER_HEARTBEAT_INTERVAL = define("worker_heartbeat_interval",
            ValueType.duration(Duration.ofMillis(50)), Duration.ofSeconds(2),
            "How often a worker records its heartbeat and renews the leases of the messages it holds."
                    + " Must be well under broker_recovery_timeout.");

    public static final Setting<Integer> WORKER_MAX_TASKS_PER_CHILD = define("worker_max_tasks_per_child",
            ValueType.integer(0, Integer.MAX_VALUE), 0,
            "Process pool: after this many tasks a child drops the app (its classes and their statics, its task thread and"
                    + " thread locals, its client) and loads it afresh in the same JVM; a whole new JVM only when the app's jar also"
                    + " holds celeriac's classes (see docs/OPERATIONS.md, Recycling). Seed: 50. 0: no limit.");

    public static final Setting<Integer> WORKER_MAX_MEMORY_PER_CHILD = define("worker_max_memory_per_child",
            ValueType.integer(0, Integer.MAX_VALUE), 0,
            "Process pool: a child whose resident memory exceeds this many KiB after a task is replaced by a new JVM (what"
                    + " frees native leaks and threads the app leaked, which reloading the app does not). 0: no limit.");

    public static final Setting<String> WORKER_CHILD_JAVA_OPTIONS = define("worker_child_java_options", ValueType.string(),
            "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -Xss512k -XX:ReservedCodeCacheSize=16m -Xms8m"
                    + " -Xmx512m -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError",
            "JVM options of the process pool's children, chosen for small idle memory and a fast start (about 50 MiB"
                    + " resident each). The C1 compiler alone keeps them small; for CPU-heavy tasks drop"
                    + " -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 (about 5 MiB more each, faster hot code). A child out"
                    + " of memory exits, and its task goes back on the queue (see task_reject_on_worker_lost). The pool puts"
                    + " -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 before these (the JDK's class-data archive"
                    + " shared by the worker and its children at its own address, about 5 MiB less each);"
                    + " -XX:ArchiveRelocationMode=1 here maps it at a random address again.");

    public static final Setting<Boolean> WORKER_CHILD_CLASS_DATA_SHARING = define("worker_child_class_data_sharing",
            ValueType.bool(), true,
            "Process pool: keep a class-data-sharing archive of what children load (in the temporary directory, made by"
                    + " the first child that exits cleanly), which roughly halves a child's start time.");

    public static final Setting<Duration> WORKER_PROC_ALIVE_TIMEOUT = define("worker_proc_alive_timeout",
            ValueType.duration(Duration.ofSeconds(1)), Duration.ofSeconds(60),
            "Process pool: how long a new child may take to start and load the app before it is killed and replaced.");

    public static final Setting<Duration> WORKER_CHILD_KILL_GRACE = define("worker_child_kill_grace",
            ValueType.duration(Duration.ZERO), Duration.ofSeconds(2),
            "Process pool: after a hard time limit a child gets SIGTERM, then SIGKILL this long later.");

    public static final Setting<Duration> WORKER_SHUTDOWN_TIMEOUT = define("worker_shutdown_timeout", ValueType.limit(),
            Duration.ZERO,
            "Warm shutdown waits this long for running tasks, then shuts down cold (their messages go back to the queue)."
                    + " 0 or none: wait for them to finish.");

    // --- beat -------------------------------------------------------------------------------------

    public static final Setting<Map<String, Object>> BEAT_SCHEDULE = define("beat_schedule", ValueType.mapping(), Map.of(),
            "Periodic tasks, as in Celery: entry name → {task, schedule, args, kwargs, options, timezone, catch_up}."
                    + " schedule is an interval (300, 30s, 5m) or a cron expression of 5 fields ('0 */6 * * *');"
                    + " options: queue, priority, expires (seconds). See docs/BEAT.md.");

    public static final Setting<java.time.ZoneId> TIMEZONE = define("timezone", ValueType.zone(), java.time.ZoneOffset.UTC,
            "Time zone of cron schedules that name none.");

    public static final Setting<Duration> BEAT_LOCK_TIMEOUT = define("beat_lock_timeout",
            ValueType.duration(Duration.ofSeconds(1)), Duration.ofSeconds(5),
            "Lease of the beat leader lock: the leader renews it every third of it (and sends a heartbeat every fifth, at"
                    + " most every 2 s); if it dies, another beat takes over within this long (plus a tenth: how often the"
                    + " others look), and `celeriac health` calls a leader silent for half of it down.");

    public static final Setting<String> BEAT_CATCH_UP = define("beat_catch_up", ValueType.oneOf("once", "skip"), "once",
            "A slot missed while no beat ran: fire it once when beat starts (once), or skip it (skip). Per entry: catch_up.");

    public static final Setting<Duration> HEALTH_CHECK_INTERVAL = define("health_check_interval", ValueType.limit(),
            Duration.ofMinutes(5),
            "How often beat sends the built-in celeriac.health_check task (seed: every 5 minutes). 0 or none: never.");

    public static final Setting<String> HEALTH_CHECK_JDBC_URL = define("health_check_jdbc_url", ValueType.url(), "",
            "A JDBC URL of the application's database; the health check opens a connection and runs SELECT 1"
                    + " (jdbc:postgresql://… and jdbc:sqlite:… drivers are included). Empty: no database check.");

    // --- manager ----------------------------------------------------------------------------------

    public static final Setting<Map<String, Object>> PROGRAMS = define("programs", ValueType.mapping(), Map.of(),
            "(a worker and a beat)",
            "Programs `celeriac start` supervises: name → {kind: worker|beat, or command: [...], count, queues,"
                    + " concurrency, pool, environment, startsecs, startretries, stopwaitsecs}. See docs/OPERATIONS.md.");

    public static final Setting<String> RUN_DIR = define("run_dir", ValueType.string(), "run",
            "Directory of the manager's pid file and control socket (relative: to the working directory).");

    public static final Setting<String> LOG_DIR = define("log_dir", ValueType.string(), "logs",
            "Directory of the programs' logs: NAME.log and NAME_error.log (warnings and errors), rotated by size.");

    public static final Setting<Integer> LOGFILE_MAXBYTES = define("logfile_maxbytes", ValueType.integer(1024, Integer.MAX_VALUE),
            50 * 1024 * 1024, "A log file is rotated when it would grow past this many bytes (supervisord's default, 50 MB).");

    public static final Setting<Integer> LOGFILE_BACKUPS = define("logfile_backups", ValueType.integer(0, 1000), 10,
            "How many rotated log files (NAME.log.1, .2, …) are kept.");

    public static final Setting<Duration> STARTSECS = define("startsecs", ValueType.duration(Duration.ZERO), Duration.ofSeconds(1),
            "A program must stay up this long after starting to count as RUNNING (per program: startsecs).");

    public static final Setting<Integer> STARTRETRIES = define("startretries", ValueType.integer(0, 1000), 3,
            "A program that dies within startsecs this many times in a row is FATAL and stays down (per program).");

    public static final Setting<Duration> STOPWAITSECS = define("stopwaitsecs", ValueType.duration(Duration.ZERO),
            Duration.ofSeconds(60),
            "On stop a program gets SIGTERM (a worker's warm shutdown), then SIGKILL after this long (per program).");

    public static final Setting<Duration> WORKER_LIVENESS_TIMEOUT = define("worker_liveness_timeout",
            ValueType.duration(Duration.ofSeconds(1)), Duration.ofSeconds(60),
            "celeriac health: a worker that neither polled the broker nor finished a task for this long is unhealthy,"
                    + " even if its process exists.");

    public static final Setting<String> ALERT_WEBHOOK_URL = define("alert_webhook_url", ValueType.url(), "",
            "A URL that receives a JSON POST when a program goes FATAL, crash-loops, or health turns unhealthy. Empty: none.");

    // --- dashboard --------------------------------------------------------------------------------

    public static final Setting<Boolean> DASHBOARD_ENABLED = define("dashboard_enabled", ValueType.bool(), true,
            "`celeriac start` (and `demo`) also runs the web dashboard as a supervised program named dashboard, next to"
                    + " the default worker and beat (with a programs list of your own, add {kind: dashboard}). false: no dashboard.");

    public static final Setting<Integer> DASHBOARD_PORT = define("dashboard_port", ValueType.integer(0, 65535), 5555,
            "TCP port of the web dashboard (Flower's 5555); `celeriac dashboard --port` overrides it. 0: any free port.");

    public static final Setting<String> DASHBOARD_BIND = define("dashboard_bind", ValueType.string(), "127.0.0.1",
            "Address the dashboard listens on. Any address that is not loopback (0.0.0.0, a LAN address) needs"
                    + " dashboard_auth, or the dashboard refuses to start.");

    public static final Setting<String> DASHBOARD_AUTH = define("dashboard_auth", ValueType.string(), "",
            "Who may use the dashboard: empty (anyone who can reach it: loopback only), bearer:TOKEN (an"
                    + " `Authorization: Bearer TOKEN` header, or the token typed once into its login page), or"
                    + " basic:USER:HASH with HASH from `celeriac dashboard hash-password` (PBKDF2-HMAC-SHA256).");

    public static final Setting<Boolean> DASHBOARD_READ_ONLY = define("dashboard_read_only", ValueType.bool(), false,
            "The dashboard shows everything but offers no controls (pool, limits, shutdown, revoke, replay, purge):"
                    + " their requests are refused with 403.");

    /** Every setting, in table order. */
    public static List<Setting<?>> all() {
        return List.copyOf(ALL.values());
    }

    /** The setting of that name, or null. */
    public static Setting<?> byName(String name) {
        return ALL.get(name);
    }
}
