package io.celeriac.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} for tests: on a free port, with its data in a directory of its own,
 * stopped and started again at will (to test outages), with append-only persistence if asked.
 */
public final class RedisServer implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final boolean aof;
    private Process process;
    /** For a sentinel: the master it watches, as "host port", and its name; null for a plain server. */
    private String sentinelOf;
    private String masterName;

    private RedisServer(Path dir, int port, boolean aof) {
        this.dir = dir;
        this.port = port;
        this.aof = aof;
    }

    /** For a TLS server: its TLS port is {@link #port()}; the CA that signed its certificate is {@link #caCertificate()}. */
    private boolean tls;

    /**
     * Starts a server that speaks only TLS, with a certificate for 127.0.0.1 signed by a CA made
     * here with openssl (see {@link #caCertificate()}).
     */
    public static RedisServer startTls(Path dir) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        TestCertificates.make(dir);
        RedisServer r = new RedisServer(dir, port, false);
        r.tls = true;
        r.process = new ProcessBuilder("redis-server", "--port", "0", "--tls-port", Integer.toString(port), "--bind", "127.0.0.1",
                "--tls-cert-file", dir.resolve("server.pem").toString(), "--tls-key-file", dir.resolve("server.key").toString(),
                "--tls-ca-cert-file", dir.resolve("ca.pem").toString(), "--tls-auth-clients", "no", "--save", "",
                "--appendonly", "no", "--dir", dir.toString(), "--logfile", dir.resolve("redis.log").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) { // listening is enough: a TLS handshake is the clients' business
            try (Socket s = new Socket("127.0.0.1", port)) {
                return r;
            } catch (IOException notYet) {
                if (!r.process.isAlive()) {
                    throw new IOException("redis-server (TLS) exited: " + Files.readString(dir.resolve("redis.out")));
                }
                Thread.sleep(20);
            }
        }
        throw new IOException("redis-server (TLS) did not start on port " + port);
    }

    /** The PEM file of the CA that signed a TLS server's certificate. */
    public Path caCertificate() {
        return dir.resolve("ca.pem");
    }

    /** Starts a Redis Sentinel (redis-server --sentinel) watching {@code master} under {@code name}. */
    public static RedisServer startSentinel(Path dir, RedisServer master, String name) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        RedisServer r = new RedisServer(dir, port, false);
        r.sentinelOf = "127.0.0.1 " + master.port();
        r.masterName = name;
        r.start();
        return r;
    }

    /** Starts a server; {@code aof}: append-only file with fsync every second (what a production Redis broker uses). */
    public static RedisServer start(Path dir, boolean aof) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        RedisServer r = new RedisServer(dir, port, aof);
        r.start();
        return r;
    }

    public synchronized void start() throws IOException, InterruptedException {
        Files.createDirectories(dir);
        if (sentinelOf != null) {
            Path conf = dir.resolve("sentinel.conf");
            Files.writeString(conf, "port " + port + "\nbind 127.0.0.1\ndir " + dir + "\nlogfile " + dir.resolve("sentinel.log") + "\n"
                    + "sentinel monitor " + masterName + " " + sentinelOf + " 1\n"
                    + "sentinel down-after-milliseconds " + masterName + " 5000\n");
            process = new ProcessBuilder("redis-server", conf.toString(), "--sentinel").redirectErrorStream(true)
                    .redirectOutput(dir.resolve("sentinel.out").toFile()).start();
            awaitPong();
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--daemonize", "no", "--logfile", dir.resolve("redis.log").toString()));
        if (aof) {
            cmd.addAll(List.of("--appendonly", "yes", "--appendfsync", "everysec"));
        } else {
            cmd.addAll(List.of("--appendonly", "no"));
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
        awaitPong();
    }

    private void awaitPong() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.getOutputStream().write("PING\r\n".getBytes());
                byte[] b = new byte[7];
                if (s.getInputStream().read(b) > 0 && new String(b).startsWith("+PONG")) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (!process.isAlive()) {
                Path out = dir.resolve(sentinelOf != null ? "sentinel.out" : "redis.out");
                throw new IOException("redis-server exited: " + (Files.exists(out) ? Files.readString(out) : "(no output)"));
            }
            Thread.sleep(20);
        }
        throw new IOException("redis-server did not start on port " + port);
    }

    /** Stops the server (SIGTERM: with AOF on, what was acknowledged is on disk). */
    public synchronized void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** Empties every database of the server (FLUSHALL), e.g. between tests sharing one server. */
    public void flushAll() throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write("FLUSHALL\r\n".getBytes());
            byte[] b = new byte[5];
            if (s.getInputStream().read(b) <= 0 || !new String(b).startsWith("+OK")) {
                throw new IOException("FLUSHALL on port " + port + " failed: " + new String(b));
            }
        }
    }

    public int port() {
        return port;
    }

    /** The server process's pid (for SIGSTOP/SIGCONT: a frozen server). */
    public synchronized long pid() {
        return process.pid();
    }

    public String url() {
        return "redis://127.0.0.1:" + port + "/0";
    }

    public String url(int db) {
        return "redis://127.0.0.1:" + port + "/" + db;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
