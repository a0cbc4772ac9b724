package io.celeriac.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A task record as text (the stores' values and log elements), and its runtime read back as the very same double. */
class TaskRecordTextTest {

    @Test
    void aBatchAsOneLogElementComesBackRecordForRecord() {
        java.time.Instant t = java.time.Instant.parse("2026-12-03T10:00:00.123456Z");
        TaskRecord full = new TaskRecord("id:1\n", "tâches.ajouter", io.celeriac.TaskState.FAILURE, "celery@a\nb", "q:1",
                "[1,\"😀\"]", "{\"k\":\"v:2\"}", null, "ValueError: 3:4", "Traceback\n  line 1", 2, t, t.plusSeconds(1),
                t.plusSeconds(2), 0.25, "p", "r", "g", java.util.List.of("c1", "c2"),
                java.util.List.of(new TaskRecord.Step(io.celeriac.TaskState.FAILURE, t.plusSeconds(2), "celery@a", 2, "boom")));
        TaskRecord bare = new TaskRecord("x", null, io.celeriac.TaskState.RECEIVED, null, null, null, null, null, null, null, 0,
                null, null, t, null, null, null, null, null, null);
        String element = TaskRecordText.element(java.util.List.of(full, bare));
        java.util.List<TaskRecordText.Item> items = TaskRecordText.items(java.util.List.of("skipped", element), 1);
        assertThat(items).extracting(TaskRecordText.Item::id).containsExactly(full.id(), bare.id());
        assertThat(items).extracting(TaskRecordText.Item::score).containsExactly(full.updatedMicros(), bare.updatedMicros());
        assertThat(items).extracting(TaskRecordText.Item::record).containsExactly(full, bare);
        assertThat(TaskRecordText.decode(full.id(), TaskRecordText.encode(full))).isEqualTo(full);
    }

    @Test
    void runtimesKeptToTheMicrosecondAreWrittenByHandAndReadBackExactly() {
        assertThat(TaskRecordText.runtime(0.25)).isEqualTo("0.25");
        assertThat(TaskRecordText.runtime(0.000001)).isEqualTo("0.000001");
        assertThat(TaskRecordText.runtime(0.0)).isEqualTo("0.0");
        assertThat(TaskRecordText.runtime(12.0)).isEqualTo("12.0");
        assertThat(TaskRecordText.runtime(null)).isNull();
        SplittableRandom random = new SplittableRandom(14);
        for (int i = 0; i < 100_000; i++) {
            long us = i < 50_000 ? random.nextLong(10_000_000L) : random.nextLong(1L << 40);
            double v = us / 1e6;
            assertThat(Double.valueOf(TaskRecordText.runtime(v))).isEqualTo(v);
        }
    }

    @Test
    void otherRuntimesAreWrittenAsDoubleToStringWrites() {
        for (double v : new double[] {0.1234567891, 1e-9, -0.5, 1e300, Double.NaN}) {
            assertThat(TaskRecordText.runtime(v)).isEqualTo(Double.toString(v));
        }
    }
}
