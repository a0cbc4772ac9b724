package io.celeriac.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The manager lock and process identities, with a real process holding the lock and a real kill -9. */
@Tag("integration")
@Timeout(120)
class ManagerLockTest {
    @TempDir
    Path dir;

    @Test
    void theLockNamesItsLiveHolderSurvivesItsFileBeingDeletedAndIsFreeAfterKillNine() throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        try (ChildJvm holder = ChildJvm.start(LockHolderMain.class.getName(), List.of(run.toString()), Map.of(), dir.resolve("holder.log"))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> holder.output().contains("locked"));
            ProcessId id = ProcessId.of(holder.pid()).orElseThrow();
            assertThat(ManagerLock.holder(run)).contains(id);
            assertThat(ManagerLock.acquire(run)).as("a second manager cannot take it").isEmpty();
            assertThat(ManagerLock.killedHolder(run)).isEmpty();

            // a tidy-up deletes the file: the holder takes a new one, so a second start still sees it
            Files.delete(run.resolve(ManagerLock.FILE));
            await().atMost(Duration.ofSeconds(10)).until(() -> ManagerLock.holder(run).equals(Optional.of(id)));
            assertThat(ManagerLock.acquire(run)).isEmpty();

            holder.kill9();
            assertThat(ManagerLock.holder(run)).as("the kernel let go of the lock with the process").isEmpty();
            assertThat(ManagerLock.killedHolder(run)).as("the file still names the manager that was killed").contains(id);
            try (ManagerLock mine = ManagerLock.acquire(run).orElseThrow()) {
                assertThat(ManagerLock.holder(run)).contains(ProcessId.current());
                assertThat(ManagerLock.acquire(run)).isEmpty();
            }
            assertThat(ManagerLock.holder(run)).isEmpty();
            assertThat(ManagerLock.killedHolder(run)).as("a clean end leaves no name behind").isEmpty();
        }
    }

    @Test
    void aProcessIdIsItsPidAndStartTimeSoAReusedPidIsNeverSignalled() throws Exception {
        Files.createDirectories(dir.resolve("r"));
        try (ChildJvm child = ChildJvm.start(LockHolderMain.class.getName(), List.of(dir.resolve("r").toString()), Map.of(),
                dir.resolve("child.log"))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> child.output().contains("locked"));
            ProcessId id = ProcessId.of(child.pid()).orElseThrow();
            assertThat(ProcessId.parse(id.toString())).contains(id);
            assertThat(id.alive()).isTrue();
            ProcessId other = new ProcessId(id.pid(), id.startTime() + 1); // the same pid, given to another process
            assertThat(other.alive()).isFalse();
            assertThat(other.terminate()).isFalse();
            assertThat(other.kill()).isFalse();
            assertThat(child.process().isAlive()).as("not signalled").isTrue();
            assertThat(id.kill()).isTrue();
            assertThat(child.waitFor(30)).isTrue();
            assertThat(id.alive()).isFalse();
            assertThat(ProcessId.of(child.pid())).isEmpty();
        }
    }
}
