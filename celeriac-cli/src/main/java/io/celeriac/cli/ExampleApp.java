package io.celeriac.cli;

import io.celeriac.ConfigException;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the example app ({@code celeriac-examples}, not part of {@code celeriac.jar}) is, for
 * {@code celeriac demo}: already on the class path; {@code $CELERIAC_HOME/examples/celeriac-examples.jar}
 * in the installed distribution (system property {@code celeriac.home}, set by {@code bin/celeriac}, or
 * the environment variable {@code CELERIAC_HOME}); or {@code examples/target/celeriac-examples-*.jar}
 * in the source tree, next to the {@code celeriac-cli/target} this jar was built in.
 */
final class ExampleApp {
    static final String CLASS = "io.celeriac.examples.FactCheckApp";
    static final String HOME_PROPERTY = "celeriac.home";
    static final String HOME_ENV = "CELERIAC_HOME";

    private ExampleApp() {
    }

    /** The class path entries to add so that {@link #CLASS} loads: none when it is on the class path already. */
    static List<Path> classPath() {
        if (onClassPath()) {
            return List.of();
        }
        return List.of(jar().orElseThrow(() -> new ConfigException("the example app (celeriac-examples) is not found: looked on"
                + " the class path, in $CELERIAC_HOME/examples/ and in the source tree's examples/target/"
                + " (build it with ./mvnw -pl examples package)")));
    }

    private static boolean onClassPath() {
        try {
            Class.forName(CLASS, false, ExampleApp.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    static Optional<Path> jar() {
        String home = System.getProperty(HOME_PROPERTY, System.getenv(HOME_ENV));
        if (home != null && !home.isBlank()) {
            Path installed = Path.of(home, "examples", "celeriac-examples.jar");
            if (Files.isRegularFile(installed)) {
                return Optional.of(installed.toAbsolutePath());
            }
        }
        return inSourceTree();
    }

    /** celeriac-cli/target/celeriac.jar (or …/target/classes) → examples/target/celeriac-examples-VERSION.jar. */
    private static Optional<Path> inSourceTree() {
        Path self;
        try {
            self = Path.of(ExampleApp.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
        Path root = self.getParent() == null || self.getParent().getParent() == null ? null : self.getParent().getParent().getParent();
        if (root == null) {
            return Optional.empty();
        }
        Path target = root.resolve("examples").resolve("target");
        if (!Files.isDirectory(target)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith("celeriac-examples-") && n.endsWith(".jar")
                        && !n.endsWith("-sources.jar") && !n.endsWith("-javadoc.jar") && !n.endsWith("-tests.jar");
            }).sorted().findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
