package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Celery's command-line forms, in process: options before the command, -O, the new flags' bad values, tab completion. */
class CeleryFlagsTest {
    @TempDir
    Path dir;

    private String broker(String name) {
        return "sqlite:" + dir.resolve(name + ".db");
    }

    @Test
    void brokerBeforeTheCommandIsUsedAndOneAfterItWins() {
        assertThat(CliRun.of("-b", broker("a"), "call", "noop").code()).isZero();
        assertThat(CliRun.of("--broker", broker("a"), "call", "noop").code()).isZero();
        assertThat(CliRun.of("-b", broker("b"), "call", "noop").code()).isZero();
        CliRun after = CliRun.of("-b", broker("b"), "purge", "-f", "-b", broker("a"));
        assertThat(after.code()).isZero();
        assertThat(after.out()).contains("Purged 2 messages");
        CliRun before = CliRun.of("-b", broker("b"), "purge", "-f");
        assertThat(before.out()).contains("Purged 1 message from");
    }

    @Test
    void everyConfigOptionBeforeTheCommandReachesIt() throws Exception {
        Path cfg = Files.writeString(dir.resolve("c.yaml"), "worker_prefetch_multiplier: 9\n");
        CliRun r = CliRun.of("-A", "io.celeriac.examples.FactCheckApp", "-b", broker("s"), "--result-backend", broker("r"),
                "--config", cfg.toString(), "-l", "WARNING", "--set", "worker_concurrency=7", "--set", "task_max_retries=5",
                "settings", "--set", "task_max_retries=6");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("app +=  ?io.celeriac.examples.FactCheckApp +\\(command line\\)")
                .containsPattern("broker_url += " + java.util.regex.Pattern.quote(broker("s")))
                .containsPattern("result_backend += " + java.util.regex.Pattern.quote(broker("r")))
                .containsPattern("log_level += WARNING")
                .containsPattern("worker_prefetch_multiplier += 9 ")
                .containsPattern("worker_concurrency += 7 ")
                .containsPattern("task_max_retries += 6 "); // the --set after the command wins
        assertThat(CliRun.of("-b", broker("s"), "result", "no-such-id").err()).contains("PENDING");
        assertThat(CliRun.of("-b", broker("s"), "inspect", "ping", "--timeout", "0.2").code()).isEqualTo(1); // no worker: none answered
    }

    @Test
    void mainHelpListsTheOptionsItTakes() {
        CliRun help = CliRun.of("--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("-A, --app=CLASS", "-b, --broker=URL", "--result-backend=URL", "--config=FILE",
                "-l, --loglevel=LEVEL", "--set=NAME=VALUE");
        assertThat(CliRun.of("worker", "--help").out()).contains("-B, --beat", "-D, --detach", "--pidfile=FILE", "-f, --logfile=FILE",
                "-O=fair|default");
        assertThat(CliRun.of("beat", "--help").out()).contains("-D, --detach", "--pidfile=FILE", "-f, --logfile=FILE");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "-l BOGUS purge -f",
            "-A",
            "--set nothing call noop",
            "--config /no/such/file.yaml call noop",
            "-B worker",
            "worker -O bogus",
            "worker --pidfile= ",
            "worker --logfile x%q.log",
            "beat --pidfile %z",
            "generate completion fish",
            "generate completion"})
    void badValuesGetOneLineAndExitTwo(String line) {
        String[] args = line.split(" ");
        String[] withBroker = new String[args.length + 2];
        withBroker[0] = "-b";
        withBroker[1] = broker("bad");
        System.arraycopy(args, 0, withBroker, 2, args.length);
        CliRun r = CliRun.of(withBroker);
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("celeriac: ").doesNotContain("\n").doesNotContain("Exception");
    }

    @Test
    void optimizationFairAndDefaultAreAccepted() {
        // no app registers a task here (-A names none that exists): the -O check passed when the error is the app's
        for (String o : List.of("fair", "default")) {
            CliRun r = CliRun.of("-b", broker("o"), "worker", "-O", o, "-A", "no.such.App");
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).doesNotContain("-O").contains("no.such.App");
        }
    }

    @Test
    void theCompletionScriptCompletesACommandInARealBash() throws Exception {
        for (String shell : List.of("bash", "zsh")) {
            CliRun r = CliRun.of("generate", "completion", shell);
            assertThat(r.code()).isZero();
            Path script = Files.writeString(dir.resolve("celeriac-" + shell), r.out());
            assertThat(complete(script, "celeriac wor")).isEqualTo("worker");
            assertThat(complete(script, "celeriac generate --he")).isEqualTo("--help");
            assertThat(complete(script, "celeriac worker --pid")).isEqualTo("--pidfile");
        }
    }

    /** What the script's completion function offers for {@code line} (the function {@code complete -F} registers) (the word being completed is its last). */
    private static String complete(Path script, String line) throws Exception {
        String words = String.join(" ", line.split(" "));
        String bash = "source '" + script + "' && COMP_LINE='" + line + "' && COMP_POINT=${#COMP_LINE} && COMP_WORDS=(" + words
                + ") && COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )) && _complete_celeriac 2>/dev/null; printf '%s ' \"${COMPREPLY[@]}\"";
        Process p = new ProcessBuilder("bash", "-c", bash).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
