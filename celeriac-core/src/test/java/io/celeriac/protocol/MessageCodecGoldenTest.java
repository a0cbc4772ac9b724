package io.celeriac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.MalformedMessageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Messages captured from real Celery 5.2 (../shared/celery/captures, copied to test resources). */
@Tag("unit")
class MessageCodecGoldenTest {

    static JsonNode capture(String name) throws IOException {
        try (InputStream in = MessageCodecGoldenTest.class.getResourceAsStream("/celery/" + name)) {
            return Json.MAPPER.readTree(in);
        }
    }

    /** The three messages Celery's client LPUSHed: add(40, 2), add(2, 3), and add(2, 3) with every option. */
    static List<String> capturedMessages() throws IOException {
        JsonNode keys = capture("A-keys-after-publish.json").get("keys");
        List<String> out = new ArrayList<>();
        keys.get("celery").forEach(n -> out.add(n.asText()));
        keys.get("celery\u0006\u00163").forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void decodesAPlainDelayCallFromCelery() throws IOException {
        TaskMessage m = MessageCodec.decode(capturedMessages().get(1));
        assertThat(m.task()).isEqualTo("add");
        assertThat(m.id()).isEqualTo("d9e57353-e1d3-42d7-a1e8-5a7570a94399");
        assertThat(m.rootId()).isEqualTo(m.id());
        assertThat(m.parentId()).isNull();
        assertThat(m.retries()).isZero();
        assertThat(m.eta()).isEmpty();
        assertThat(m.expires()).isEmpty();
        assertThat(m.args().toString()).isEqualTo("[2,3]");
        assertThat(m.kwargs().isEmpty()).isTrue();
        assertThat(m.priority()).isZero();
        assertThat(m.routingKey()).isEqualTo("celery");
        assertThat(m.origin()).isEqualTo("gen19228@vm");
        assertThat(m.hardTimeLimit()).isNull();
        assertThat(m.softTimeLimit()).isNull();
        assertThat(m.ignoreResult()).isFalse();
    }

    @Test
    void decodesEveryOptionOfApplyAsync() throws IOException {
        TaskMessage m = MessageCodec.decode(capturedMessages().get(2));
        assertThat(m.id()).isEqualTo("e3c72239-acfc-4cee-a80d-4f2dedb89993");
        assertThat(m.retries()).isEqualTo(2);
        assertThat(m.priority()).isEqualTo(5);
        assertThat(m.eta()).contains(Instant.parse("2026-11-24T13:20:29.787612Z"));
        assertThat(m.expires()).contains(Instant.parse("2026-11-24T13:22:19.787612Z"));
        assertThat(m.properties().get("expiration").asText()).isEqualTo("120000");
        JsonNode callback = m.embed().get("callbacks").get(0);
        assertThat(callback.get("task").asText()).isEqualTo("noop");
        assertThat(callback.get("immutable").asBoolean()).isTrue();
    }

    @Test
    void reEncodingACeleryMessageKeepsEveryFieldAndValue() throws IOException {
        for (String raw : capturedMessages()) {
            JsonNode original = Json.read(raw);
            JsonNode again = Json.read(MessageCodec.encode(MessageCodec.decode(raw)));
            assertThat(withDecodedBody(again)).isEqualTo(withDecodedBody(original));
        }
    }

    @Test
    void unknownHeadersPropertiesAndEnvelopeFieldsSurviveARoundTrip() throws IOException {
        ObjectNode env = (ObjectNode) Json.read(capturedMessages().get(0));
        ((ObjectNode) env.get("headers")).put("x-trace", "abc");
        ((ObjectNode) env.get("properties")).put("x-prop", 7);
        env.put("x-envelope", true);
        TaskMessage m = MessageCodec.decode(Json.write(env));
        assertThat(m.header("x-trace").asText()).isEqualTo("abc");
        JsonNode out = Json.read(MessageCodec.encode(m.withRetry(1, Instant.parse("2030-01-01T00:00:00Z"))));
        assertThat(out.get("x-envelope").asBoolean()).isTrue();
        assertThat(out.get("properties").get("x-prop").asInt()).isEqualTo(7);
        assertThat(out.get("headers").get("x-trace").asText()).isEqualTo("abc");
        assertThat(out.get("headers").get("retries").asInt()).isEqualTo(1);
        assertThat(out.get("headers").get("eta").asText()).isEqualTo("2030-01-01T00:00:00.000000+00:00");
    }

    @Test
    void aNewMessageHasExactlyTheHeadersAndPropertiesCelerySends() throws IOException {
        JsonNode celery = Json.read(capturedMessages().get(2));
        TaskMessage ours = TaskMessage.builder("add").args(Json.NODES.arrayNode().add(2).add(3))
                .expires(Instant.now().plusSeconds(120)).eta(Instant.now().plusSeconds(10)).priority(5).build();
        JsonNode encoded = Json.read(MessageCodec.encode(ours));
        assertThat(fieldNames(encoded)).isEqualTo(fieldNames(celery));
        assertThat(fieldNames(encoded.get("headers"))).isEqualTo(fieldNames(celery.get("headers")));
        assertThat(fieldNames(encoded.get("properties"))).isEqualTo(fieldNames(celery.get("properties")));
        assertThat(encoded.get("headers").get("argsrepr").asText()).isEqualTo("(2, 3)");
        assertThat(encoded.get("headers").get("kwargsrepr").asText()).isEqualTo("{}");
        assertThat(encoded.get("headers").get("timelimit").toString()).isEqualTo("[null,null]");
        JsonNode body = withDecodedBody(encoded).get("body");
        assertThat(body.toString()).isEqualTo("[[2,3],{},{\"callbacks\":null,\"errbacks\":null,\"chain\":null,\"chord\":null}]");
    }

    @Test
    void rejectsWhatIsNotAProtocolTwoJsonMessageWithAReason() {
        assertReason("not json at all", "not JSON");
        assertReason("[1,2]", "not a JSON object");
        assertReason("{\"headers\": {\"id\": \"x\"}, \"body\": \"W10=\"}", "no 'task' header");
        assertReason("{\"headers\": {\"task\": \"add\"}, \"body\": \"W10=\"}", "no 'id' header");
        assertReason("{\"content-type\": \"application/x-python-serialize\", \"headers\": {\"task\": \"add\", \"id\": \"1\"}, \"body\": \"gAR=\"}",
                "application/x-python-serialize");
        assertReason("{\"headers\": {\"task\": \"add\", \"id\": \"1\"}, \"properties\": {\"body_encoding\": \"base64\"}, \"body\": \"%%%\"}",
                "not valid base64");
        assertReason("{\"headers\": {\"task\": \"add\", \"id\": \"1\"}, \"properties\": {}, \"body\": \"[1, 2]\"}",
                "is not [args, kwargs, embed]");
        assertReason("{\"headers\": {\"task\": \"add\", \"id\": \"1\", \"eta\": \"tomorrow\"}, \"body\": \"[[], {}, {}]\"}",
                "header 'eta'");
    }

    private static void assertReason(String payload, String reason) {
        assertThatThrownBy(() -> MessageCodec.decode(payload))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining(reason);
    }

    private static JsonNode withDecodedBody(JsonNode envelope) throws IOException {
        ObjectNode copy = envelope.deepCopy();
        String b64 = copy.get("body").asText();
        copy.set("body", Json.read(new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8)));
        ((ObjectNode) copy.get("properties")).remove("delivery_tag");
        return copy;
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }
}
