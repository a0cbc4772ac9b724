package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.config.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
        ClassDataArchive archive = ClassDataArchive.forCommand(base, feature, dir);
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
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.filter(p -> p.toString().endsWith(".tmp")).toList()).isEmpty();
        }
        return archive.file();
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
