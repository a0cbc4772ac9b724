package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Canvas;
import io.celeriac.canvas.ChordCallback;
import io.celeriac.canvas.Continuations;
import io.celeriac.canvas.Dispatch;
import io.celeriac.spi.Publication;
import io.celeriac.testkit.CeleryCaptures;
import org.junit.jupiter.api.Test;
import io.celeriac.Signature;
import io.celeriac.TaskRegistry;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The messages a canvas built in Java is sent as, and those a worker sends after a step, against the
 * ones the real Celery 5.2 client and worker sent for the same canvas ({@link CeleryCaptures}): the
 * same headers, body, embedded signatures and chord sizes.
 */
@Tag("unit")
class CanvasGoldenTest {
    static Signature add(Object... args) {
        return Signature.of("add", args);
    }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        out.add(Arguments.of("chain2", Canvas.chain(add(1, 2), add(3))));
        out.add(Arguments.of("chain5", Canvas.chain(add(1, 1), add(1), add(1), add(1), add(1))));
        out.add(Arguments.of("chain_immutable", Canvas.chain(add(1, 2), add(10, 10).immutable(), add(1))));
        out.add(Arguments.of("group3", Canvas.group(IntStream.range(0, 3).mapToObj(i -> add(i, i)).toList())));
        out.add(Arguments.of("chord3", Canvas.chord(IntStream.range(0, 3).mapToObj(i -> add(i, i)).toList(), Signature.of("tsum"))));
        out.add(Arguments.of("chord_with_errback", Canvas.chord(List.of(add(1, 1), Signature.of("fail")),
                Signature.of("tsum").linkError(Signature.of("on_error")))));
        out.add(Arguments.of("link", add(2, 2).link(Signature.of("mul", 10))));
        out.add(Arguments.of("link_multi", add(1, 1).link(Signature.of("mul", 2)).link(Signature.of("mul", 3))));
        out.add(Arguments.of("link_error", Signature.of("fail").linkError(Signature.of("on_error"))));
        out.add(Arguments.of("chain_with_group", Canvas.chain(add(1, 1), Canvas.group(add(1), add(2)), Signature.of("tsum"))));
        out.add(Arguments.of("group_in_chain_middle", Canvas.chain(Canvas.group(add(1, 1), add(2, 2)), Signature.of("tsum"), add(5))));
        out.add(Arguments.of("chunks", Canvas.chunks(Signature.of("add"),
                IntStream.range(0, 10).mapToObj(i -> List.of(i, i)).toList(), 3)));
        out.add(Arguments.of("starmap", Canvas.starmap(Signature.of("add"), IntStream.range(0, 3).mapToObj(i -> List.of(i, i)).toList())));
        out.add(Arguments.of("map", Canvas.map(Signature.of("tsum"), List.of(List.of(1, 2), List.of(3, 4)))));
        out.add(Arguments.of("nested_chord_in_chain", Canvas.chain(add(1, 1),
                Canvas.chord(List.of(add(1), add(2)), Signature.of("tsum")), add(100))));
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aJavaCanvasIsSentAsCeleryItself(String name, Signature canvas) {
        JsonNode capture = CeleryCaptures.load(name);
        Map<String, Integer> celerySizes = new TreeMap<>();
        capture.get("keys").properties().forEach(e -> {
            if (e.getKey().endsWith(".s")) {
                celerySizes.put("size", e.getValue().path("json").asInt());
            }
        });
        Dispatch.Plan plan = new Dispatch.Plan(null);
        dispatch().apply(plan, canvas, null, null, null);
        Map<String, Integer> ourSizes = new TreeMap<>();
        plan.chordSizes().values().forEach(v -> ourSizes.put("size", v));
        assertThat(CeleryCaptures.normalise(messages(plan.publications()))).isEqualTo(CeleryCaptures.normalise(CeleryCaptures.messages(capture)));
        assertThat(ourSizes).isEqualTo(celerySizes);
    }

    static Dispatch dispatch() {
        return new Dispatch(n -> null, "celery", Clock.systemUTC(), () -> UUID.randomUUID().toString(), true);
    }

    /** Messages as {@link CeleryCaptures} compares them. */
    static ArrayNode messages(List<Publication> pubs) {
        ArrayNode ours = Json.NODES.arrayNode();
        for (Publication p : pubs) {
            TaskMessage m = MessageCodec.decode(p.message().payload());
            ArrayNode body = Json.NODES.arrayNode().add(m.args()).add(m.kwargs()).add(m.embed());
            ours.add(CeleryCaptures.message(p.queue(), m.headers(), m.properties(), body));
        }
        return ours;
    }

    /** The first message of {@code canvas}, as a client sends it. */
    static TaskMessage first(Signature canvas) {
        Dispatch.Plan plan = new Dispatch.Plan(null);
        dispatch().apply(plan, canvas, null, null, null);
        return MessageCodec.decode(plan.publications().get(0).message().payload());
    }

    /** What a worker publishes after a task, against what Celery's worker published for it (phase 2 of the captures). */
    @Test
    void afterAStepTheWorkerSendsTheNextAsCelerysWorkerDoes() {
        Continuations c = new Continuations(dispatch().parking(), Clock.systemUTC());
        TaskMessage step1 = first(Canvas.chain(add(1, 2), add(3).set("queue", "nobody")));
        assertThat(CeleryCaptures.normalise(messages(c.succeeded(step1, Json.NODES.numberNode(3)).effects().publications())))
                .isEqualTo(CeleryCaptures.normalise(CeleryCaptures.messages(CeleryCaptures.load("after-chain2_second_step_nobody"))));
    }

    @Test
    void aLinkedCallbackIsSentAsCelerysWorkerSendsIt() {
        Continuations c = new Continuations(dispatch().parking(), Clock.systemUTC());
        TaskMessage m = first(add(2, 2).link(Signature.of("mul", 10).set("queue", "nobody")));
        assertThat(CeleryCaptures.normalise(messages(c.succeeded(m, Json.NODES.numberNode(4)).effects().publications())))
                .isEqualTo(CeleryCaptures.normalise(CeleryCaptures.messages(CeleryCaptures.load("after-link_nobody"))));
    }

    @Test
    void anErrbackIsSentAsCelerysWorkerSendsItAGroupOfOneWithTheFailedId() {
        Continuations c = new Continuations(dispatch().parking(), Clock.systemUTC());
        TaskMessage m = first(Signature.of("fail").linkError(Signature.of("on_error_id").set("queue", "nobody")));
        var exc = io.celeriac.protocol.ExceptionInfo.of("ValueError", "builtins", "boom");
        assertThat(CeleryCaptures.normalise(messages(c.failed(m, exc).effects().publications())))
                .isEqualTo(CeleryCaptures.normalise(CeleryCaptures.messages(CeleryCaptures.load("after-link_error_id_nobody"))));
    }

    @Test
    void aCompletedChordSendsItsBodyAsCelerysWorkerSendsIt() {
        Dispatch.Plan plan = new Dispatch.Plan(null);
        dispatch().apply(plan, Canvas.chord(IntStream.range(0, 3).mapToObj(i -> add(i, i)).toList(),
                Signature.of("tsum").set("queue", "nobody")), null, null, null);
        TaskMessage last = MessageCodec.decode(plan.publications().get(2).message().payload());
        ChordCallback body = new ChordCallback(dispatch().parking(), last.embedded("chord"),
                new Dispatch.Parent(last.id(), last.rootId()), Clock.systemUTC());
        assertThat(CeleryCaptures.normalise(messages(body.complete(Json.toTree(List.of(0, 2, 4))).publications())))
                .isEqualTo(CeleryCaptures.normalise(CeleryCaptures.messages(CeleryCaptures.load("after-chord3_body_nobody"))));
    }
}
