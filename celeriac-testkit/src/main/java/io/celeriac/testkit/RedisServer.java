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

    private RedisServer(Path dir, int port, boolean aof) {
        this.dir = dir;
        this.port = port;
        this.aof = aof;
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
        List<String> cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--daemonize", "no", "--logfile", dir.resolve("redis.log").toString()));
        if (aof) {
            cmd.addAll(List.of("--appendonly", "yes", "--appendfsync", "everysec"));
        } else {
            cmd.addAll(List.of("--appendonly", "no"));
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
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
                throw new IOException("redis-server exited: " + Files.readString(dir.resolve("redis.out")));
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

    public int port() {
        return port;
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
