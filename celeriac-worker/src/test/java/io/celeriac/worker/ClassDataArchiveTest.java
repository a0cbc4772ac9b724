package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.config.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process pool's class-data archive, made for real by a throw-away child JVM and then proven
 * usable by a child that is told to fail if it cannot map it ({@code -Xshare:on}, or
 * {@code -XX:AOTMode=on} for Java 25's AOT cache).
 */
class ClassDataArchiveTest {
    private static final Map<String, Object> SETTINGS = Map.of(Settings.APP.name(), ExecutionTestApp.class.getName(),
            Settings.BROKER_URL.name(), "memory://");

    @TempDir
    Path dir;

    @Test
    void onThisJvmAThrowAwayChildMakesTheArchiveAndLaterChildrenStartWithIt() throws Exception {
        int feature = Runtime.version().feature();
        Assumptions.assumeTrue(ClassDataArchive.Kind.of(feature) != ClassDataArchive.Kind.AUTO,
                "Java 19-24 keep the archive up to date by themselves (-XX:+AutoCreateSharedArchive)");
        makeAndUse(ProcessHandle.current().info().command().orElseThrow(), feature);
    }

    @Test
    void onJava25AndLaterTheArchiveIsAnAotCache() throws Exception {
        Optional<Path> java25 = installedJava(25);
        Assumptions.assumeTrue(java25.isPresent(), "no Java 25 or later under /usr/lib/jvm");
        Path file = makeAndUse(java25.get().toString(), 25);
        assertThat(file.getFileName().toString()).endsWith(".aot");
    }

    @Test
    void aClassPathWithDirectoriesGetsNoArchive() {
        List<String> base = List.of("java", "-cp", dir + java.io.File.pathSeparator + "app.jar", ChildMain.class.getName());
        assertThat(ClassDataArchive.forCommand(base, Runtime.version().feature(), dir)).isNull();
    }

    private Path makeAndUse(String java, int feature) throws Exception {
        List<String> base = List.of(java, "-Xlog:disable", "-Xlog:all=warning:stderr", "-XX:+UseSerialGC",
                "-cp", jarsOnly(System.getProperty("java.class.path")), ChildMain.class.getName());
        Path cds = dir.resolve("celeriac-cds-test"); // made by forCommand, as $TMPDIR/celeriac-cds-UID is
        ClassDataArchive archive = ClassDataArchive.forCommand(base, feature, cds);
        assertThat(archive.command(base)).isEqualTo(base); // nothing to use yet

        Thread making = archive.ensure(base, SETTINGS, Duration.ofSeconds(60));
        assertThat(making).isNotNull();
        making.join(Duration.ofSeconds(120).toMillis());
        assertThat(archive.file()).isRegularFile();
        assertThat(archive.ensure(base, SETTINGS, Duration.ofSeconds(60))).isNull(); // made once

        List<String> cmd = new ArrayList<>(archive.command(base));
        assertThat(cmd).anyMatch(o -> o.endsWith("=" + archive.file()));
        cmd.add(1, feature >= 25 ? "-XX:AOTMode=on" : "-Xshare:on"); // fail rather than start without it
        ChildProcess child = ChildProcess.start(1, cmd, SETTINGS, Duration.ofSeconds(60));
        child.retire();
        assertThat(child.waitForExit(Duration.ofSeconds(30))).isTrue();
        try (Stream<Path> left = Files.list(cds)) {
            assertThat(left.filter(p -> p.toString().endsWith(".tmp")).toList()).isEmpty();
        }
        // the directory every child maps the archive from is this user's alone
        assertThat(archive.file().getParent()).isEqualTo(cds);
        assertThat(Files.getPosixFilePermissions(cds, LinkOption.NOFOLLOW_LINKS)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(((Integer) Files.getAttribute(cds, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue()).isEqualTo(ClassDataArchive.currentUid());
        assertThat(Files.getOwner(archive.file(), LinkOption.NOFOLLOW_LINKS)).isEqualTo(Files.getOwner(cds));
        return archive.file();
    }

    @Test
    void theDefaultDirectoryIsThisUsersOwn() {
        Path d = ClassDataArchive.defaultDir();
        assertThat(d).isNotNull();
        assertThat(d.getParent()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir")));
        assertThat(d.getFileName().toString()).isEqualTo("celeriac-cds-" + ClassDataArchive.currentUid());
    }

    /** A class path of jars only (one that need not exist), so that an archive would be made. */
    private List<String> jarCommand() {
        return List.of("java", "-cp", dir.resolve("app.jar").toString(), ChildMain.class.getName());
    }

    @Test
    void aDirectoryThatOthersMayWriteIsRefusedWithOneWarning() throws Exception {
        Path cds = Files.createDirectory(dir.resolve("celeriac-cds-shared"));
        Files.setPosixFilePermissions(cds, PosixFilePermissions.fromString("rwxrwxrwx")); // as another user could have made it
        try (Logged log = new Logged()) {
            assertThat(ClassDataArchive.forCommand(jarCommand(), 17, cds)).isNull();
            assertThat(ClassDataArchive.forCommand(jarCommand(), 17, cds)).isNull();
            assertThat(log.warnings()).singleElement().asString()
                    .contains(cds.toString(), "has mode rwxrwxrwx, not rwx------", "children start without an archive");
        }
        assertThat(cds).isEmptyDirectory(); // nothing written there
    }

    @Test
    void aDirectoryOwnedByAnotherUserIsRefused() throws Exception {
        Assumptions.assumeTrue(ClassDataArchive.currentUid() == 0, "only root can give a directory to another user");
        Path cds = Files.createDirectory(dir.resolve("celeriac-cds-other"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setAttribute(cds, "unix:uid", 65534); // nobody
        try (Logged log = new Logged()) {
            assertThat(ClassDataArchive.forCommand(jarCommand(), 17, cds)).isNull();
            assertThat(log.warnings()).singleElement().asString().contains(cds.toString(), "(uid 65534), not by this user (uid 0)");
        }
    }

    @Test
    void aSymbolicLinkInPlaceOfTheDirectoryIsRefused() throws Exception {
        Path target = Files.createDirectory(dir.resolve("elsewhere"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path cds = Files.createSymbolicLink(dir.resolve("celeriac-cds-link"), target);
        try (Logged log = new Logged()) {
            assertThat(ClassDataArchive.forCommand(jarCommand(), 17, cds)).isNull();
            assertThat(log.warnings()).singleElement().asString().contains("is a symbolic link");
        }
    }

    @Test
    void anArchiveWhoseDirectoryIsOpenedUpLaterIsNoLongerUsed() throws Exception {
        Path cds = dir.resolve("celeriac-cds-later");
        List<String> base = jarCommand();
        ClassDataArchive archive = ClassDataArchive.forCommand(base, 17, cds);
        assertThat(archive).isNotNull();
        Files.writeString(archive.file(), "an archive");
        assertThat(archive.command(base)).anyMatch(o -> o.endsWith("=" + archive.file())); // used while private
        Files.setPosixFilePermissions(cds, PosixFilePermissions.fromString("rwxrwxrwx"));
        try (Logged log = new Logged()) {
            assertThat(archive.command(base)).isEqualTo(base);
            assertThat(archive.ensure(base, SETTINGS, Duration.ofSeconds(60))).isNull();
            assertThat(log.warnings()).singleElement().asString().contains("has mode rwxrwxrwx");
        }
    }

    /** The WARN lines of the worker's logger while open. */
    private static final class Logged implements AutoCloseable {
        private final ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("celeriac.worker");
        private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new ch.qos.logback.core.read.ListAppender<>();

        Logged() {
            appender.start();
            logger.addAppender(appender);
        }

        List<String> warnings() {
            return appender.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
        }
    }

    /** The class path with each directory (target/classes…) packed into a jar: an archive can only hold classes from jars. */
    private String jarsOnly(String classPath) {
        List<String> out = new ArrayList<>();
        java.util.spi.ToolProvider jar = java.util.spi.ToolProvider.findFirst("jar").orElseThrow();
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            if (Files.isDirectory(Path.of(entry))) {
                Path packed = dir.resolve("cp-" + out.size() + ".jar");
                assertThat(jar.run(System.out, System.err, "--create", "--file", packed.toString(), "-C", entry, ".")).isZero();
                out.add(packed.toString());
            } else {
                out.add(entry);
            }
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    private static Optional<Path> installedJava(int atLeast) throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> homes = Files.list(jvms)) {
            return homes.filter(h -> Files.isExecutable(h.resolve("bin/java")) && feature(h) >= atLeast)
                    .map(h -> h.resolve("bin/java")).findFirst();
        }
    }

    private static int feature(Path home) {
        try {
            for (String line : Files.readAllLines(home.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    return Integer.parseInt(v.split("[.+-]")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not a JDK we can read
        }
        return 0;
    }
}
