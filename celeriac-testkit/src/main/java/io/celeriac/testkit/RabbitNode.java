package io.celeriac.testkit;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A RabbitMQ node of a test's own: Debian's {@code rabbitmq-server} run directly (not through the
 * {@code /usr/sbin} wrapper, which switches to the {@code rabbitmq} user), with its own node name
 * ({@code celeriac-test-PORT@localhost}), a free AMQP port and distribution port on 127.0.0.1, and
 * its database, logs, configuration, enabled plugins (none: no management) and Erlang cookie
 * ({@code HOME}) in a temporary directory. The machine's own node (port 5672,
 * {@code /etc/rabbitmq/rabbitmq-env.conf}) is neither read nor touched; the node registers with the
 * machine's {@code epmd} like any other.
 *
 * <p>{@link #stop()} shuts the node down cleanly, {@link #kill()} sends SIGKILL (for fault tests),
 * {@link #start()} starts it again on the same ports with the same data. Uses
 * {@code com.rabbitmq:amqp-client} (an optional dependency of the test kit: add it to the test's
 * class path) to wait for the node and for {@link #connectionFactory()}.
 */
public final class RabbitNode implements AutoCloseable {
    /** Where Debian puts the server's own scripts (the ones that do not switch user). */
    static final Path SCRIPTS = Path.of(System.getenv().getOrDefault("RABBITMQ_SCRIPTS", "/usr/lib/rabbitmq/bin"));
    private static final long START_TIMEOUT_S = 90;

    private final Path dir;
    private final int port;
    private final int distPort;
    private final String nodeName;
    /** The TLS listener's port, 0 when there is none. */
    private int tlsPort;
    private Process process;
    private long lastStartMillis;
    /** Kills the node if the test JVM exits without {@link #close()}; removed by close. */
    private final Thread reaper;

    private RabbitNode(Path dir, int port, int distPort) {
        this.dir = dir;
        this.port = port;
        this.distPort = distPort;
        this.nodeName = "celeriac-test-" + port + "@localhost";
        this.reaper = new Thread(this::killQuietly, "rabbit-node-reaper-" + port);
    }

    /**
     * Creates a node in a new temporary directory and starts it (about 10 s on a busy two-core
     * machine: the Erlang boot, not the test, is the slow part).
     *
     * @throws IOException when the server programs are missing or the node does not start
     */
    public static RabbitNode launch() throws IOException, InterruptedException {
        return launch(false);
    }

    /**
     * Like {@link #launch()}, with a TLS listener too ({@link #tlsUrl()}): a certificate for
     * 127.0.0.1 signed by a CA made here with openssl ({@link #caCertificate()}).
     */
    public static RabbitNode launchTls() throws IOException, InterruptedException {
        return launch(true);
    }

    private static RabbitNode launch(boolean tls) throws IOException, InterruptedException {
        if (!Files.isExecutable(SCRIPTS.resolve("rabbitmq-server"))) {
            throw new IOException("no " + SCRIPTS.resolve("rabbitmq-server") + "; install rabbitmq-server (apt-get install -y rabbitmq-server)");
        }
        Path dir = Files.createTempDirectory("celeriac-rabbit-");
        int port = freePort(65535);
        // the CLI tools of older releases listen on DIST_PORT + 10000: keep it a valid port
        int distPort = freePort(55000);
        RabbitNode node = new RabbitNode(dir, port, distPort);
        if (tls) {
            node.tlsPort = freePort(65535);
            TestCertificates.make(dir.resolve("tls"));
        }
        node.configure();
        Runtime.getRuntime().addShutdownHook(node.reaper);
        try {
            node.start();
        } catch (IOException | InterruptedException | RuntimeException e) {
            node.killQuietly();
            throw e;
        }
        return node;
    }

    private static int freePort(int below) throws IOException {
        for (int i = 0; i < 50; i++) {
            try (ServerSocket s = new ServerSocket(0)) {
                if (s.getLocalPort() < below) {
                    return s.getLocalPort();
                }
            }
        }
        throw new IOException("no free port below " + below);
    }

    private void configure() throws IOException {
        Files.createDirectories(dir.resolve("home"));
        Files.createDirectories(dir.resolve("mnesia"));
        Files.createDirectories(dir.resolve("log"));
        Files.writeString(dir.resolve("rabbitmq.conf"), String.join("\n",
                "listeners.tcp.default = 127.0.0.1:" + port,
                "loopback_users.guest = true",
                "log.console = false",
                "log.file.level = info",
                tlsPort == 0 ? "" : String.join("\n",
                        "listeners.ssl.default = 127.0.0.1:" + tlsPort,
                        "ssl_options.cacertfile = " + caCertificate(),
                        "ssl_options.certfile = " + dir.resolve("tls/server.pem"),
                        "ssl_options.keyfile = " + dir.resolve("tls/server.key"),
                        "ssl_options.verify = verify_none",
                        "ssl_options.fail_if_no_peer_cert = false",
                        "")));
        Files.writeString(dir.resolve("enabled_plugins"), "[].\n");
        Files.writeString(dir.resolve("rabbitmq-env.conf"), "# empty: the machine's /etc/rabbitmq/rabbitmq-env.conf is not read\n");
        Path cookie = dir.resolve("home/.erlang.cookie");
        byte[] secret = new byte[16];
        new SecureRandom().nextBytes(secret);
        Files.writeString(cookie, HexFormat.of().formatHex(secret).toUpperCase());
        Files.setPosixFilePermissions(cookie, PosixFilePermissions.fromString("r--------"));
    }

    private void environment(Map<String, String> env) {
        env.put("HOME", dir.resolve("home").toString());
        env.put("RABBITMQ_NODENAME", nodeName);
        env.put("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1");
        env.put("RABBITMQ_NODE_PORT", Integer.toString(port));
        env.put("RABBITMQ_DIST_PORT", Integer.toString(distPort));
        env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
        env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
        env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq.conf").toString());
        env.put("RABBITMQ_ADVANCED_CONFIG_FILE", dir.resolve("advanced.config").toString());
        env.put("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString());
        env.put("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
        env.put("RABBITMQ_PID_FILE", dir.resolve("node.pid").toString());
        env.put("RABBITMQ_PLUGINS_EXPAND_DIR", dir.resolve("plugins-expand").toString());
        env.put("ERL_EPMD_ADDRESS", "127.0.0.1");
        env.remove("RABBITMQ_SERVER_START_ARGS");
        env.remove("ERL_FLAGS");
    }

    /**
     * Starts the node (again, after {@link #stop()} or {@link #kill()}: same ports, same data) and
     * waits until it accepts an AMQP connection.
     *
     * @throws IOException when the node exits or is not ready within 90 s (with the tail of its log)
     */
    public synchronized void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(SCRIPTS.resolve("rabbitmq-server").toString()).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.out").toFile()));
        environment(pb.environment());
        process = pb.start();
        ConnectionFactory f = connectionFactory();
        f.setConnectionTimeout(2000);
        long deadline = t0 + TimeUnit.SECONDS.toNanos(START_TIMEOUT_S);
        while (true) {
            try (Connection c = f.newConnection("celeriac-rabbit-node-probe")) {
                lastStartMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                return;
            } catch (IOException | TimeoutException notYet) {
                if (!process.isAlive()) {
                    throw new IOException("rabbitmq-server for " + nodeName + " exited with " + process.exitValue() + ":\n" + diagnostics());
                }
                if (System.nanoTime() > deadline) {
                    killQuietly();
                    throw new IOException("RabbitMQ node " + nodeName + " did not accept connections in " + START_TIMEOUT_S + " s:\n"
                            + diagnostics());
                }
                Thread.sleep(100);
            }
        }
    }

    /** How long the last {@link #start()} took until the node accepted a connection, in milliseconds. */
    public synchronized long lastStartMillis() {
        return lastStartMillis;
    }

    /**
     * Stops the node cleanly ({@code rabbitmqctl stop}: durable queues and persistent messages are
     * kept) and waits for its processes to exit.
     */
    public synchronized void stop() throws IOException, InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        List<ProcessHandle> all = processes();
        ctl("stop", dir.resolve("node.pid").toString());
        awaitExit(all, 60);
    }

    /** Kills the node's processes with SIGKILL (what a crash or an OOM kill does) and waits for them to go. */
    public synchronized void kill() throws InterruptedException {
        if (process == null) {
            return;
        }
        List<ProcessHandle> all = processes();
        all.forEach(ProcessHandle::destroyForcibly);
        try {
            awaitExit(all, 30);
        } catch (IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Stops the node cleanly and starts it again on the same ports, with the same data. */
    public void restart() throws IOException, InterruptedException {
        stop();
        start();
    }

    /** The node's launching process: its descendants are beam.smp and its helpers (for measuring their CPU). */
    public ProcessHandle handle() {
        return process.toHandle();
    }

    private List<ProcessHandle> processes() {
        List<ProcessHandle> all = new ArrayList<>();
        process.toHandle().descendants().forEach(all::add); // beam.smp, erl_child_setup, inet_gethost
        all.add(process.toHandle()); // the script, which waits for beam
        return all;
    }

    private static void awaitExit(List<ProcessHandle> all, int seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (ProcessHandle h : all) {
            while (h.isAlive()) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("process " + h.pid() + " of the RabbitMQ node did not exit in " + seconds + " s");
                }
                Thread.sleep(20);
            }
        }
    }

    private void killQuietly() {
        try {
            kill();
        } catch (InterruptedException | RuntimeException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs {@code rabbitmqctl -n NODE ARGS} against this node (its cookie, its node name) and
     * returns what it printed on standard output; pass {@code -q} to leave out the banner lines,
     * {@code --formatter json} for JSON.
     *
     * @throws IOException when rabbitmqctl exits non-zero (with its output)
     */
    public String ctl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(SCRIPTS.resolve("rabbitmqctl").toString(), "-n", nodeName));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "ctl-", ".out");
        Path err = Files.createTempFile(dir, "ctl-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
            environment(pb.environment());
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish in 120 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + Files.readString(out) + Files.readString(err));
            }
            return Files.readString(out);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The AMQP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The Erlang node name, {@code celeriac-test-PORT@localhost}. */
    public String nodeName() {
        return nodeName;
    }

    /** The node's log file (for a test's failure message). */
    public Path logFile() {
        return dir.resolve("log").resolve(nodeName + ".log");
    }

    /**
     * {@code amqp://guest:guest@127.0.0.1:PORT//}: the default vhost {@code /} as Celery and kombu
     * spell it ({@code guest} may log in from the loopback interface only). The Java client reads
     * {@code //} as two path segments: use {@link #connectionFactory()} there.
     */
    public String url() {
        return "amqp://guest:guest@127.0.0.1:" + port + "//";
    }

    /**
     * {@code amqps://guest:guest@127.0.0.1:TLSPORT//?ssl_ca_certs=CA}: the TLS listener of a node
     * from {@link #launchTls()}.
     */
    public String tlsUrl() {
        if (tlsPort == 0) {
            throw new IllegalStateException("this node has no TLS listener: use RabbitNode.launchTls()");
        }
        return "amqps://guest:guest@127.0.0.1:" + tlsPort + "//?ssl_ca_certs=" + caCertificate();
    }

    /** The PEM file of the CA that signed the TLS listener's certificate. */
    public Path caCertificate() {
        return dir.resolve("tls/ca.pem");
    }

    /** A Java client's factory for this node: 127.0.0.1, its port, guest, vhost {@code /}. */
    public ConnectionFactory connectionFactory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(port);
        f.setUsername("guest");
        f.setPassword("guest");
        f.setVirtualHost("/");
        f.setAutomaticRecoveryEnabled(false);
        return f;
    }

    private String diagnostics() {
        StringBuilder b = new StringBuilder();
        for (Path p : List.of(dir.resolve("server.out"), logFile())) {
            try {
                List<String> lines = Files.readAllLines(p);
                b.append("--- ").append(p).append(" (last lines)\n");
                lines.subList(Math.max(0, lines.size() - 30), lines.size()).forEach(l -> b.append(l).append('\n'));
            } catch (IOException e) {
                b.append("--- ").append(p).append(": ").append(e.getMessage()).append('\n');
            }
        }
        return b.toString();
    }

    /** Stops the node (kills it if a clean stop fails) and deletes its directory. */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            stop();
        } catch (IOException e) {
            kill();
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs or has run: nothing to remove
            }
        }
    }
}
