package io.celeriac.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.TaskOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** task_routes as celery/app/routes.py reads them, and task_annotations over a task's own options. */
class TaskRoutesTest {
    private static TaskRoutes routes(Object raw) {
        return TaskRoutes.parse("task_routes", ValueType.routes().parse("task_routes", raw));
    }

    @Test
    void anExactNameWinsOverGlobsWhichAreTriedInOrderAsFnmatch() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("feeds.*", "feeds");
        m.put("feeds.urgent", Map.of("queue", "hipri", "exchange", "ignored"));
        m.put("feed?.x", "one_char");
        m.put("*.[ab]*", Map.of("routing_key", "ab"));
        TaskRoutes r = routes(m);
        assertThat(r.queue("feeds.urgent")).isEqualTo("hipri");
        assertThat(r.queue("feeds.daily")).isEqualTo("feeds");
        assertThat(r.queue("feedX.x")).isNull(); // no '*' in the key: an exact name, as Celery
        assertThat(r.queue("misc.alpha")).isEqualTo("ab");
        assertThat(r.queue("misc.gamma")).isNull();
        assertThat(r.queue("feeds")).isNull();
    }

    @Test
    void aListOfRoutersIsTriedInOrderAndJsonIsAccepted() {
        TaskRoutes r = routes("[{\"add\": \"first\"}, {\"add\": \"second\", \"mul\": {\"queue\": \"maths\"}}]");
        assertThat(r.queue("add")).isEqualTo("first");
        assertThat(r.queue("mul")).isEqualTo("maths");
        assertThat(routes(List.of()).isEmpty()).isTrue();
    }

    @Test
    void annotationsOverrideTheTasksOwnOptionsAndStarComesAfterTheTasksEntry() {
        Map<String, Object> raw = new LinkedHashMap<>();
        raw.put("add", Map.of("rate_limit", "10/s", "max_retries", 7, "time_limit", "30s"));
        raw.put("*", Map.of("max_retries", 2));
        TaskAnnotations a = TaskAnnotations.parse("task_annotations", raw);
        TaskOptions own = TaskOptions.builder().rateLimit("1/m").maxRetries(9).queue("own").build();
        TaskOptions add = a.apply("add", own);
        assertThat(add.rateLimit()).isEqualTo("10/s");
        assertThat(add.maxRetries()).isEqualTo(2); // '*' is applied last, as Celery's resolve_all
        assertThat(add.timeLimit()).isEqualTo(Duration.ofSeconds(30));
        assertThat(add.queue()).isEqualTo("own"); // what no annotation sets stays
        assertThat(a.apply("mul", TaskOptions.DEFAULTS).maxRetries()).isEqualTo(2);
        assertThat(a.apply("celery.chord_unlock", TaskOptions.DEFAULTS)).isSameAs(TaskOptions.DEFAULTS); // built-ins keep theirs
    }
}
