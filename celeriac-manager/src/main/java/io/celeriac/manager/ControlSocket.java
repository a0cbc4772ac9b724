package io.celeriac.manager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's control channel: a Unix domain socket in the run directory, readable and writable
 * by its owner only (0600), never TCP. One JSON request line, one JSON answer line per connection.
 */
public final class ControlSocket implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.manager");
    public static final String FILE = "celeriac.sock";

    private final Path path;
    private final Function<JsonNode, JsonNode> handler;
    private ServerSocketChannel server;
    private Object boundFile;
    private boolean closed;

    /** Binds the socket and answers each request with {@code handler} on a thread of its own. */
    public ControlSocket(Path runDir, Function<JsonNode, JsonNode> handler) throws IOException {
        this.path = runDir.resolve(FILE);
        this.handler = handler;
        bind();
    }

    private synchronized void bind() throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        this.server = server;
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            log.warn("control socket {}: cannot restrict its permissions on this file system", path);
        }
        boundFile = fileKey();
        Thread acceptor = new Thread(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel ch = server.accept();
                    Thread t = new Thread(() -> serve(ch, handler), "celeriac-control-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    if (server.isOpen()) {
                        log.warn("control socket: {}", e.getMessage());
                    }
                }
            }
        }, "celeriac-control-socket");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private Object fileKey() {
        try {
            return Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Binds the socket again if its file was deleted or replaced under the live manager (a tidy-up
     * of the run directory, a second {@code start} of an old version): the CLI must still reach it.
     * Called by the manager's loop; cheap when all is well (one stat).
     */
    public synchronized void ensureBound() {
        Object key = fileKey();
        if (closed || (boundFile == null ? key != null || Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                : boundFile.equals(key))) {
            return;
        }
        log.warn("control socket {} was {}: binding it again", path, key == null ? "deleted" : "replaced");
        try {
            server.close();
        } catch (IOException e) {
            log.debug("closing the old control socket: {}", e.getMessage());
        }
        try {
            bind();
        } catch (IOException e) {
            log.warn("control socket {}: cannot bind it again: {}", path, e.getMessage());
        }
    }

    private static void serve(SocketChannel ch, Function<JsonNode, JsonNode> handler) {
        try (ch; BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
             OutputStream out = Channels.newOutputStream(ch)) {
            String line = in.readLine();
            JsonNode answer;
            try {
                answer = handler.apply(Json.read(line == null ? "{}" : line));
            } catch (RuntimeException | com.fasterxml.jackson.core.JsonProcessingException e) {
                ObjectNode err = Json.NODES.objectNode();
                err.put("error", e.getMessage() == null ? e.toString() : e.getMessage());
                answer = err;
            }
            out.write((Json.write(answer) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            log.debug("control connection: {}", e.getMessage());
        }
    }

    /**
     * Sends one request to the manager at {@code runDir}; throws {@link IOException} when none answers.
     * When the socket file is missing but a manager holds the run directory (the file was deleted
     * under it), waits up to 3 s for the manager to bind it again.
     */
    public static JsonNode request(Path runDir, ObjectNode request, java.time.Duration timeout) throws IOException {
        Path p = runDir.resolve(FILE);
        if (!Files.exists(p) && ManagerLock.holder(runDir).isPresent()) {
            long end = System.nanoTime() + 3_000_000_000L;
            while (!Files.exists(p) && System.nanoTime() < end) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (!Files.exists(p)) {
            throw new IOException("no control socket at " + p);
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(p));
            OutputStream out = Channels.newOutputStream(ch);
            out.write((Json.write(request) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(timeout.toMillis());
                    ch.close();
                } catch (InterruptedException | IOException ignored) {
                    // answered in time, or already closed
                }
            }, "celeriac-control-timeout");
            watchdog.setDaemon(true);
            watchdog.start();
            String line = in.readLine();
            watchdog.interrupt();
            if (line == null) {
                throw new IOException("the manager closed the connection without answering");
            }
            return Json.read(line);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.debug("closing control socket: {}", e.getMessage());
        }
    }
}
