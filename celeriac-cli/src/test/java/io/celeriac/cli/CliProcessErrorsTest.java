package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.testkit.ChildJvm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mistakes of {@link CliErrorsTest} made with the real {@code celeriac} command, a JVM of its
 * own: exit code 2, one line of output, no stack trace — in particular for an app that throws, which
 * used to end in a stack trace and exit 70.
 */
@Tag("integration")
@Timeout(300)
class CliProcessErrorsTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private void assertOneLineExit2(String expected, String... args) throws Exception {
        List<String> a = new ArrayList<>(List.of(args));
        ChildJvm p = processes.start(dir.resolve("run-" + System.nanoTime() + ".log"), a);
        assertThat(p.waitFor(120)).as("exited: %s", a).isTrue();
        String out = p.output();
        assertThat(p.exitCode()).as("exit code of %s; output: %s", a, out).isEqualTo(2);
        assertThat(out.strip().lines().toList()).as("one line: %s", out).singleElement().asString()
                .startsWith("celeriac: ").contains(expected);
        assertThat(out).doesNotContain("\tat ", "Caused by", "internal error");
    }

    @Test
    void eachMistakeIsOneLineAndExit2() throws Exception {
        String broker = "sqlite:" + dir.resolve("p.db");
        String app = BrokenApps.class.getName();
        assertOneLineExit2("app '" + app + "$RegisterThrows': register() failed: IllegalStateException: boom",
                "worker", "-A", app + "$RegisterThrows", "--broker", broker);
        assertOneLineExit2("app '" + app + "$StaticInitialiserThrows': static initialiser failed: IllegalArgumentException: no app.properties",
                "worker", "-A", app + "$StaticInitialiserThrows", "--broker", broker);
        assertOneLineExit2("setting 'task_time_limit': '99999999999999999999d' is out of range (max 3650d)",
                "settings", "--set", "task_time_limit=99999999999999999999d");
        assertOneLineExit2("-Q: empty queue name", "purge", "-f", "-Q", "", "--broker", broker);
        assertOneLineExit2("-Q: empty queue name", "worker", "-Q", ",,,", "--broker", broker);
        assertOneLineExit2("-n: empty node name", "worker", "-n", "", "--broker", broker);
        assertOneLineExit2("setting 'broker_url': port 70000 out of range 1–65535", "worker", "--broker", "redis://localhost:70000/0");
    }
}
