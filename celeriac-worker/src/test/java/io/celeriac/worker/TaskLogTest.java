package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** The MDC of a task's lines: set for the run and put back as it was, a nested set of the same task included. */
class TaskLogTest {
    @AfterEach
    void clear() {
        MDC.clear();
    }

    @Test
    void aRunsMdcIsPutBackAsItWasAndWhatTheTaskAddedGoesWithIt() {
        MDC.put("request", "r1");
        try (TaskLog outer = TaskLog.of("id-1", "add", "w1@host")) {
            assertThat(MDC.get(TaskLog.TASK_ID)).isEqualTo("id-1");
            try (TaskLog inner = TaskLog.of("id-1", "add", "w1@host")) { // the body, on the same thread
                MDC.put("user", "set by the task");
                assertThat(MDC.get(TaskLog.TASK_NAME)).isEqualTo("add");
            }
            // the nested one put nothing back: the run's keys (and the task's own) stay until the run ends
            assertThat(MDC.get(TaskLog.TASK_ID)).isEqualTo("id-1");
            assertThat(MDC.get("user")).isEqualTo("set by the task");
        }
        assertThat(MDC.getCopyOfContextMap()).isEqualTo(Map.of("request", "r1"));
    }

    @Test
    void anotherTaskInsideARunHasItsOwnMdcAndPutsTheRunsBack() {
        try (TaskLog outer = TaskLog.of("id-1", "add", "w1@host")) {
            try (TaskLog inner = TaskLog.of("id-2", "mul", "w1@host")) {
                assertThat(MDC.get(TaskLog.TASK_ID)).isEqualTo("id-2");
                assertThat(MDC.get(TaskLog.TASK_NAME)).isEqualTo("mul");
            }
            assertThat(MDC.get(TaskLog.TASK_ID)).isEqualTo("id-1");
            assertThat(MDC.get(TaskLog.TASK_NAME)).isEqualTo("add");
        }
        assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
    }
}
