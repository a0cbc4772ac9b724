package io.celeriac.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.ConfigException;
import io.celeriac.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** One test per edge of the state machine, with a launcher of the test's own and a manual clock. */
@Tag("unit")
class SupervisorStateMachineTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final List<FakeChild> launched = new ArrayList<>();
    private final List<String> alerts = new ArrayList<>();
    private boolean launchFails;

    final class FakeChild implements Launcher.Child {
        final long pid = 1000 + launched.size();
        Integer exit;
        boolean termed;
        boolean killed;

        @Override
        public long pid() {
            return pid;
        }

        @Override
        public Integer exitCode() {
            return exit;
        }

        @Override
        public void terminate() {
            termed = true;
        }

        @Override
        public void kill() {
            killed = true;
            exit = 137;
        }
    }

    private final Launcher launcher = (name, command, env, out) -> {
        if (launchFails) {
            throw new java.io.IOException("no such file: " + command.get(0));
        }
        FakeChild c = new FakeChild();
        launched.add(c);
        return c;
    };

    private final SupervisorEvents events = new SupervisorEvents() {
        @Override
        public void fatal(String process, String why) {
            alerts.add("FATAL " + process + ": " + why);
        }

        @Override
        public void crashLoop(String process, int crashes) {
            alerts.add("CRASHLOOP " + process + " " + crashes);
        }
    };

    private Supervisor supervisor(int count) {
        ProgramSpec spec = new ProgramSpec("worker", "worker", List.of("java", "worker"), count, Map.of(),
                Duration.ofSeconds(1), 3, Duration.ofSeconds(10));
        return new Supervisor(List.of(spec), launcher, (p, l) -> { }, events, clock);
    }

    private ProcessState state(Supervisor s) {
        return s.status().get(0).state();
    }

    private FakeChild last() {
        return launched.get(launched.size() - 1);
    }

    private void advance(Supervisor s, long millis) {
        clock.advance(Duration.ofMillis(millis));
        s.tick();
    }

    @Test
    void startLaunchesTheProcessInStarting() {
        Supervisor s = supervisor(1);
        assertThat(state(s)).isEqualTo(ProcessState.STOPPED);
        s.startAll();
        assertThat(state(s)).isEqualTo(ProcessState.STARTING);
        assertThat(launched).hasSize(1);
    }

    @Test
    void upForStartsecsIsRunning() {
        Supervisor s = supervisor(1);
        s.startAll();
        advance(s, 999);
        assertThat(state(s)).isEqualTo(ProcessState.STARTING);
        advance(s, 1);
        assertThat(state(s)).isEqualTo(ProcessState.RUNNING);
        assertThat(s.status().get(0).pid()).isEqualTo(last().pid);
    }

    @Test
    void dyingWhileStartingBacksOffOneTwoFourSeconds() {
        Supervisor s = supervisor(1);
        s.startAll();
        last().exit = 1;
        advance(s, 100);
        assertThat(state(s)).isEqualTo(ProcessState.BACKOFF);
        assertThat(s.status().get(0).lastExit()).isEqualTo("exit code 1");
        advance(s, 999);
        assertThat(launched).hasSize(1);
        advance(s, 1);
        assertThat(state(s)).isEqualTo(ProcessState.STARTING);
        assertThat(launched).hasSize(2);
        last().exit = 1;
        advance(s, 100);
        advance(s, 1999);
        assertThat(launched).hasSize(2);
        advance(s, 1);
        assertThat(launched).hasSize(3);
    }

    @Test
    void dyingWhileStartingMoreThanStartretriesTimesIsFatalWithAnAlert() {
        Supervisor s = supervisor(1);
        s.startAll();
        for (int i = 0; i < 4; i++) {
            last().exit = 2;
            advance(s, 100);
            advance(s, 10_000);
        }
        assertThat(state(s)).isEqualTo(ProcessState.FATAL);
        assertThat(launched).hasSize(4); // the first start and startretries = 3 retries
        assertThat(alerts).singleElement().asString().startsWith("FATAL worker: exited too quickly 4 times");
        advance(s, 600_000);
        assertThat(launched).hasSize(4); // stays down
    }

    @Test
    void aFatalProcessStartsAgainWhenAsked() {
        Supervisor s = supervisor(1);
        s.startAll();
        for (int i = 0; i < 4; i++) {
            last().exit = 2;
            advance(s, 100);
            advance(s, 10_000);
        }
        s.start("worker");
        assertThat(state(s)).isEqualTo(ProcessState.STARTING);
    }

    @Test
    void dyingWhileRunningRestartsAtOnceTheFirstTimeAndCountsTheRestart() {
        Supervisor s = supervisor(1);
        s.startAll();
        advance(s, 1000);
        last().exit = 137; // kill -9
        advance(s, 10);
        assertThat(state(s)).isEqualTo(ProcessState.BACKOFF);
        assertThat(s.status().get(0).lastExit()).isEqualTo("signal 9 (SIGKILL)");
        advance(s, 0);
        assertThat(state(s)).isEqualTo(ProcessState.STARTING);
        assertThat(s.status().get(0).restarts()).isEqualTo(1);
        advance(s, 1000);
        assertThat(state(s)).isEqualTo(ProcessState.RUNNING);
    }

    @Test
    void repeatedCrashesBackOffExponentiallyAndRaiseOneCrashLoopAlert() {
        Supervisor s = supervisor(1);
        s.startAll();
        List<Long> delays = new ArrayList<>();
        for (int crash = 1; crash <= 6; crash++) {
            advance(s, 1000); // RUNNING
            assertThat(state(s)).isEqualTo(ProcessState.RUNNING);
            last().exit = 1;
            advance(s, 0);
            int before = launched.size();
            long waited = 0;
            while (launched.size() == before) {
                advance(s, 100);
                waited += 100;
            }
            delays.add(waited);
        }
        assertThat(delays).containsExactly(100L, 1000L, 2000L, 4000L, 8000L, 16000L);
        assertThat(alerts).containsExactly("CRASHLOOP worker 5");
    }

    @Test
    void stopSendsSigtermAndWaitsForTheExit() {
        Supervisor s = supervisor(1);
        s.startAll();
        advance(s, 1000);
        s.stopAll();
        assertThat(state(s)).isEqualTo(ProcessState.STOPPING);
        assertThat(last().termed).isTrue();
        last().exit = 0;
        advance(s, 100);
        assertThat(state(s)).isEqualTo(ProcessState.STOPPED);
        advance(s, 60_000);
        assertThat(launched).hasSize(1); // a program stopped on purpose is not restarted
        assertThat(s.allDown()).isTrue();
    }

    @Test
    void aProcessStillRunningStopwaitsecsAfterSigtermIsKilled() {
        Supervisor s = supervisor(1);
        s.startAll();
        advance(s, 1000);
        s.stopAll();
        advance(s, 9_999);
        assertThat(last().killed).isFalse();
        advance(s, 1);
        assertThat(last().killed).isTrue();
        advance(s, 10);
        assertThat(state(s)).isEqualTo(ProcessState.STOPPED);
        assertThat(s.status().get(0).lastExit()).isEqualTo("signal 9 (SIGKILL)");
    }

    @Test
    void stoppingDuringBackoffCancelsTheRestart() {
        Supervisor s = supervisor(1);
        s.startAll();
        last().exit = 1;
        advance(s, 100);
        assertThat(state(s)).isEqualTo(ProcessState.BACKOFF);
        s.stopAll();
        assertThat(state(s)).isEqualTo(ProcessState.STOPPED);
        advance(s, 60_000);
        assertThat(launched).hasSize(1);
    }

    @Test
    void aCommandThatCannotBeStartedGoesBackoffThenFatal() {
        launchFails = true;
        Supervisor s = supervisor(1);
        s.startAll();
        assertThat(state(s)).isEqualTo(ProcessState.BACKOFF);
        for (int i = 0; i < 5; i++) {
            advance(s, 10_000);
        }
        assertThat(state(s)).isEqualTo(ProcessState.FATAL);
        assertThat(alerts).singleElement().asString().contains("could not start: no such file: java");
    }

    @Test
    void aProgramWithSeveralProcessesIsStoppedAndNamedAsOne() {
        Supervisor s = supervisor(3);
        assertThat(s.status()).extracting(ProcessStatus::process).containsExactly("worker-1", "worker-2", "worker-3");
        s.startAll();
        assertThat(launched).hasSize(3);
        s.stop("worker");
        assertThat(s.status()).extracting(ProcessStatus::state).containsOnly(ProcessState.STOPPING);
        assertThatThrownBy(() -> s.stop("wroker")).isInstanceOf(ConfigException.class)
                .hasMessage("no program named 'wroker' (programs: worker)");
    }
}
