package io.celeriac.spi;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskState;
import io.celeriac.protocol.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The hand-written JSON of timelines and children, and the join of short timelines, against the general forms. */
@Tag("unit")
class TaskRecordTest {
    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00.123456Z");
    private static final String AWKWARD = "quote \" backslash \\ newline \n tab \t cr \r bell \u0007 nul \u0000 é 漢 😀 \u2028";

    @Test
    void aTimelineWithAwkwardTextIsReadBackExactlyByAJsonParser() throws Exception {
        List<TaskRecord.Step> steps = List.of(new TaskRecord.Step(TaskState.RECEIVED, T0, "celery@host", 0, null),
                new TaskRecord.Step(TaskState.RETRY, T0.plusMillis(5), null, 1, AWKWARD),
                new TaskRecord.Step(TaskState.FAILURE, T0.plusSeconds(1), AWKWARD, 2, "ValueError: x"));
        String json = TaskRecord.timelineJson(steps);
        JsonNode parsed = Json.read(json); // well-formed for any parser (Lua's cjson reads it too)
        assertThat(parsed.size()).isEqualTo(3);
        assertThat(parsed.get(1).path("detail").asText()).isEqualTo(AWKWARD);
        assertThat(parsed.get(0).path("worker").isNull()).isFalse();
        assertThat(parsed.get(0).path("detail").isNull()).isTrue();
        assertThat(parsed.get(2).path("at").isTextual()).isTrue();
        assertThat(TaskRecord.parseTimeline(json)).isEqualTo(steps);
        assertThat(TaskRecord.timelineJson(List.of())).isEqualTo("[]");
    }

    @Test
    void childrenAreReadBackExactly() {
        List<String> ids = List.of("a", AWKWARD, "c-3");
        assertThat(TaskRecord.parseChildren(TaskRecord.childrenJson(ids))).isEqualTo(ids);
        assertThat(TaskRecord.parseChildren(TaskRecord.childrenJson(List.of()))).isEmpty();
    }

    @Test
    void shortTimelinesJoinAsTheGeneralRuleDoes() {
        Random random = new Random(14);
        TaskState[] states = {TaskState.RECEIVED, TaskState.STARTED, TaskState.RETRY, TaskState.SUCCESS};
        for (int round = 0; round < 2_000; round++) {
            List<TaskRecord.Step> a = new ArrayList<>();
            List<TaskRecord.Step> b = new ArrayList<>();
            for (List<TaskRecord.Step> t : List.of(a, b)) {
                for (int i = random.nextInt(5); i > 0; i--) { // few times and states: ties and duplicates are common
                    t.add(new TaskRecord.Step(states[random.nextInt(states.length)], T0.plusMillis(random.nextInt(3)),
                            "w" + random.nextInt(2), 0, null));
                }
            }
            LinkedHashSet<TaskRecord.Step> all = new LinkedHashSet<>(a);
            all.addAll(b);
            List<TaskRecord.Step> expected = new ArrayList<>(all);
            expected.sort(Comparator.comparing(TaskRecord.Step::at));
            assertThat(TaskRecord.joinTimelines(a, b)).as("%s + %s", a, b).isEqualTo(expected);
            TaskRecord r = new TaskRecord("t", "n", TaskState.RECEIVED, null, null, null, null, null, null, null, 0, null, null,
                    T0, null, null, null, null, List.of(), a);
            assertThat(TaskRecord.merge(null, r).timeline()).isEqualTo(TaskRecord.joinTimelines(List.of(), a));
        }
    }

    @Test
    void emptyArgumentsAreWrittenAsTheMapperWould() {
        assertThat(Json.write(Json.NODES.arrayNode())).isEqualTo("[]");
        assertThat(Json.write(Json.NODES.objectNode())).isEqualTo("{}");
        assertThat(Json.write(List.of())).isEqualTo("[]");
        assertThat(Json.write(java.util.Map.of())).isEqualTo("{}");
        assertThat(Json.write(Json.NODES.arrayNode().add(1))).isEqualTo("[1]");
    }
}
