package io.celeriac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskState;
import java.io.IOException;
import java.time.Instant;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Results stored by a real Celery worker (captures/E-results.json). */
@Tag("unit")
class TaskResultGoldenTest {

    private static JsonNode stored(String which) throws IOException {
        return MessageCodecGoldenTest.capture("E-results.json").get(which).get("value");
    }

    @Test
    void readsASuccess() throws IOException {
        TaskResult r = TaskResult.fromJson(stored("success").toString());
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(r.result().asInt()).isEqualTo(9);
        assertThat(r.dateDone()).isEqualTo(Instant.parse("2026-11-24T13:20:44.815207Z"));
        assertThat(r.traceback()).isNull();
    }

    @Test
    void readsAFailureWithItsExceptionAndTraceback() throws IOException {
        TaskResult r = TaskResult.fromJson(stored("failure").toString());
        assertThat(r.state()).isEqualTo(TaskState.FAILURE);
        ExceptionInfo e = r.exception();
        assertThat(e.type()).isEqualTo("ValueError");
        assertThat(e.module()).isEqualTo("builtins");
        assertThat(e.message()).isEqualTo("boom");
        assertThat(e.traceback()).contains("ValueError: boom");
        assertThat(e.summary()).isEqualTo("ValueError: boom");
    }

    @Test
    void readsARevocationForExpiry() throws IOException {
        TaskResult r = TaskResult.fromJson(stored("revoked_expired").toString());
        assertThat(r.state()).isEqualTo(TaskState.REVOKED);
        assertThat(r.exception().message()).isEqualTo("expired");
    }

    @Test
    void writesResultsExactlyAsCeleryStoresThem() throws IOException {
        for (String which : new String[] {"success", "failure", "revoked_expired"}) {
            JsonNode celery = stored(which);
            JsonNode ours = Json.read(TaskResult.fromJson(celery.toString()).toJson());
            assertThat(ours).isEqualTo(celery);
            assertThat(ours.toString()).isEqualTo(celery.toString()); // same field order too
        }
    }

    @Test
    void aJavaExceptionIsStoredInCeleryForm() throws IOException {
        ExceptionInfo e = ExceptionInfo.of(new IllegalStateException("source down"));
        TaskResult r = TaskResult.failure("t1", e, Instant.parse("2026-01-02T03:04:05.123456Z"));
        JsonNode json = Json.read(r.toJson());
        assertThat(json.get("status").asText()).isEqualTo("FAILURE");
        assertThat(json.get("result").toString())
                .isEqualTo("{\"exc_type\":\"IllegalStateException\",\"exc_message\":[\"source down\"],\"exc_module\":\"java.lang\"}");
        assertThat(json.get("traceback").asText()).startsWith("java.lang.IllegalStateException: source down");
        assertThat(json.get("date_done").asText()).isEqualTo("2026-01-02T03:04:05.123456");
        assertThat(json.get("children").isArray()).isTrue();
    }
}
