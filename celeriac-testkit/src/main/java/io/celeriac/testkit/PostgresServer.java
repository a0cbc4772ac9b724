package io.celeriac.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of a test's own (initdb + pg_ctl from the installed packages, a free port, a
 * temporary directory), so tests can stop and restart it. PostgreSQL refuses to run as root; as
 * root, its programs run as the {@code postgres} user ({@code runuser}), in a directory that user owns.
 */
public final class PostgresServer implements AutoCloseable {
    private final Path bin;
    private final Path dir;
    private final int port;
    private final boolean asPostgresUser;

    private PostgresServer(Path bin, Path dir, int port, boolean asPostgresUser) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
        this.asPostgresUser = asPostgresUser;
    }

    /** Creates a cluster in a new temporary directory and starts it. */
    public static PostgresServer launch() throws IOException, InterruptedException {
        Path bin = binaries();
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory("celeriac-pg-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        if (root) {
            UserPrincipal postgres = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(dir, postgres);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        PostgresServer pg = new PostgresServer(bin, dir, port, root);
        pg.run("initdb", "-D", pg.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync");
        pg.start();
        return pg;
    }

    /** The newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/N/bin), or $PG_BIN. */
    static Path binaries() throws IOException {
        String env = System.getenv("PG_BIN");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        Path base = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(base)) {
            try (Stream<Path> versions = Files.list(base)) {
                Path found = versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                        .max(Comparator.comparingInt(v -> versionOf(v.getFileName().toString()))).orElse(null);
                if (found != null) {
                    return found.resolve("bin");
                }
            }
        }
        throw new IOException("no PostgreSQL server programs (initdb, pg_ctl) under /usr/lib/postgresql; install postgresql, or set PG_BIN");
    }

    private static int versionOf(String name) {
        try {
            return Integer.parseInt(name.split("\\.")[0]);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private String data() {
        return dir.resolve("data").toString();
    }

    /** Starts (or restarts) the server and waits until it accepts connections. */
    public synchronized void start() throws IOException, InterruptedException {
        run("pg_ctl", "-D", data(), "-l", dir.resolve("server.log").toString(), "-w", "-t", "60",
                "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start");
    }

    /** Stops the server (fast shutdown: open sessions are ended, committed data is kept). */
    public synchronized void stop() throws IOException, InterruptedException {
        run("pg_ctl", "-D", data(), "-m", "fast", "-w", "-t", "60", "stop");
    }

    private void run(String program, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (asPostgresUser) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.add(bin.resolve(program).toString());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("celeriac-pg-cmd", ".out");
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(program + " did not finish in 120 s");
            }
            if (p.exitValue() != 0) {
                Path log = dir.resolve("server.log");
                throw new IOException(String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + Files.readString(out)
                        + (Files.exists(log) ? "\nserver.log:\n" + Files.readString(log) : ""));
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    public int port() {
        return port;
    }

    /** The server's processes: the postmaster (first line of postmaster.pid) and its children, for SIGSTOP/SIGCONT (a frozen server). */
    public synchronized List<Long> pids() throws IOException {
        long postmaster = Long.parseLong(Files.readAllLines(dir.resolve("data").resolve("postmaster.pid")).get(0).trim());
        List<Long> out = new ArrayList<>(List.of(postmaster));
        ProcessHandle.of(postmaster).ifPresent(h -> h.descendants().forEach(d -> out.add(d.pid())));
        return out;
    }

    /** {@code postgresql://postgres@127.0.0.1:PORT/postgres}. */
    public String url() {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            stop();
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
