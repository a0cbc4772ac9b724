package io.celeriac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** task_always_eager / Celeriac.eager: tasks run in the sending thread, with no broker at all. */
class EagerTest {
    private static final Duration NOW = Duration.ZERO;
    private final AtomicInteger flakyCalls = new AtomicInteger();
    private final List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();

    public class Maths {
        @Task(name = "add")
        public int add(@Param("x") int x, @Param("y") int y) {
            order.add("add(" + x + "," + y + ")");
            return x + y;
        }

        @Task(name = "tsum")
        public int tsum(@Param("xs") List<Integer> xs) {
            order.add("tsum" + xs);
            return xs.stream().mapToInt(Integer::intValue).sum();
        }

        @Task(name = "boom")
        public int boom() {
            throw new IllegalStateException("boom");
        }

        /** Fails twice, then succeeds: retried at once (the 60 s countdown is not waited for). */
        @Task(name = "flaky", maxRetries = 3)
        public String flaky(TaskContext ctx) {
            if (flakyCalls.incrementAndGet() < 3) {
                throw ctx.retry(new java.io.IOException("try again"), Duration.ofSeconds(60));
            }
            return "ok after " + ctx.retries() + " retries";
        }

        @Task(name = "hopeless", maxRetries = 2, autoretryFor = java.io.UncheckedIOException.class)
        public String hopeless() {
            flakyCalls.incrementAndGet();
            throw new java.io.UncheckedIOException(new java.io.IOException("down"));
        }

        /** Sends another task from inside a task, and reads its result at once. */
        @Task(name = "nested")
        public int nested(TaskContext ctx) {
            return ctx.app().send("add", 20, 22).get(NOW, Integer.class);
        }
    }

    private TaskRegistry registry() {
        return new TaskRegistry().register(new Maths());
    }

    @Test
    void aSendReturnsWithTheResultStoredAndNoBrokerIsOpened() {
        // a broker URL nothing listens on, of a scheme this module cannot even open: eager mode never touches it
        Config c = Config.builder().setRaw("broker_url", "redis://127.0.0.1:1/0", "test")
                .set(Settings.TASK_ALWAYS_EAGER, true).build();
        try (Celeriac app = Celeriac.open(c, registry())) {
            assertThat(app.isEager()).isTrue();
            AsyncResult r = app.send("add", 2, 3);
            assertThat(r.state()).isEqualTo(TaskState.SUCCESS); // before any get
            assertThat(r.get(NOW, Integer.class)).isEqualTo(5);
            assertThat(app.send("nested").get(NOW, Integer.class)).isEqualTo(42);
        }
    }

    @Test
    void sendManySendsEveryTaskAndChordAndRefusesAGroupBeforeSendingAny() {
        try (Celeriac app = Celeriac.eager(registry())) {
            List<Signature> batch = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) {
                batch.add(Signature.of("add", i, 10));
            }
            batch.add(Canvas.chord(List.of(Signature.of("add", 1, 1), Signature.of("add", 2, 2)), Signature.of("tsum")));
            List<AsyncResult> got = app.sendMany(batch);
            assertThat(got).hasSize(6);
            for (int i = 0; i < 5; i++) {
                assertThat(got.get(i).get(NOW, Integer.class)).isEqualTo(i + 10);
            }
            assertThat(got.get(5).get(NOW, Integer.class)).isEqualTo(6);

            order.clear();
            assertThatThrownBy(() -> app.sendMany(List.of(Signature.of("add", 1, 1), Canvas.group(Signature.of("add", 2, 2)))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("applyGroup");
            assertThat(order).isEmpty(); // nothing of the batch ran
        }
    }

    @Test
    void aFailureIsStoredOrWithEagerPropagatesThrown() {
        try (Celeriac app = Celeriac.eager(registry())) {
            AsyncResult r = app.send("boom");
            assertThat(r.state()).isEqualTo(TaskState.FAILURE);
            assertThatThrownBy(() -> r.get(NOW)).isInstanceOf(TaskFailedException.class).hasMessageContaining("boom");
        }
        Config propagate = Config.builder().set(Settings.TASK_EAGER_PROPAGATES, true).build();
        try (Celeriac app = Celeriac.eager(propagate, registry())) {
            assertThatThrownBy(() -> app.send("boom")).isInstanceOf(IllegalStateException.class).hasMessage("boom");
            assertThat(app.send("add", 1, 1).get(NOW, Integer.class)).isEqualTo(2); // the client goes on
        }
    }

    @Test
    void retriesRunAtOnceUntilTheyAreUsedUp() {
        try (Celeriac app = Celeriac.eager(registry())) {
            long t0 = System.nanoTime();
            AsyncResult r = app.send("flaky");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30)); // no 60 s countdown
            assertThat(r.get(NOW, String.class)).isEqualTo("ok after 2 retries");
            assertThat(flakyCalls).hasValue(3);

            flakyCalls.set(0);
            AsyncResult h = app.send("hopeless");
            assertThat(flakyCalls).hasValue(3); // the first run and two retries
            assertThatThrownBy(() -> h.get(NOW)).isInstanceOf(TaskFailedException.class).hasMessageContaining("down");
        }
    }

    @Test
    void chainsGroupsAndChordsRunInOrder() {
        try (Celeriac app = Celeriac.eager(registry())) {
            AsyncResult chain = app.apply(Canvas.chain(Signature.of("add", 2, 3), Signature.of("add", 10), Signature.of("add", 100)));
            assertThat(chain.get(NOW, Integer.class)).isEqualTo(115);
            assertThat(chain.parent().orElseThrow().get(NOW, Integer.class)).isEqualTo(15);
            assertThat(order).containsExactly("add(2,3)", "add(5,10)", "add(15,100)");

            GroupResult g = app.applyGroup(Canvas.group(Signature.of("add", 1, 1), Signature.of("add", 2, 2)));
            assertThat(g.get(NOW)).extracting(n -> n.asInt()).containsExactly(2, 4);

            order.clear();
            AsyncResult chord = app.apply(Canvas.chord(List.of(Signature.of("add", 1, 1), Signature.of("add", 2, 2)),
                    Signature.of("tsum")));
            assertThat(chord.get(NOW, Integer.class)).isEqualTo(6);
            assertThat(order).containsExactly("add(1,1)", "add(2,2)", "tsum[2, 4]");

            // a failing step fails the rest of the chain, as on a worker
            AsyncResult broken = app.apply(Canvas.chain(Signature.of("boom"), Signature.of("add", 1)));
            assertThat(broken.state()).isEqualTo(TaskState.FAILURE);
        }
    }

    @Test
    void annotationsApplyInEagerModeToo() {
        Config c = Config.builder().setRaw("task_annotations", Map.of("flaky", Map.of("max_retries", 1)), "test").build();
        try (Celeriac app = Celeriac.eager(c, registry())) {
            AsyncResult r = app.send("flaky");
            assertThat(flakyCalls).hasValue(2); // the annotation's 1 retry, not @Task's 3
            assertThatThrownBy(() -> r.get(NOW)).isInstanceOf(TaskFailedException.class).hasMessageContaining("try again");
        }
    }
}
