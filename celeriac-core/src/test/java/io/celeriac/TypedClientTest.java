package io.celeriac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** TaskRef, TypedResult and the interface client on the eager client: real sends, real results, real Jackson. */
class TypedClientTest {
    private static final Duration NOW = Duration.ZERO;

    /** A result type a task returns as a JSON object. */
    public record Report(String source, int claims) {
    }

    /** One interface for the worker's implementation and the client. */
    public interface Facts {
        @Task(name = "add")
        long add(long x, long y);

        @Task(name = "scrape_one")
        Report scrape(String source, @Kwarg("claims") Integer claims);

        @Task(name = "scrape_many")
        List<Report> scrapeMany(List<String> sources);

        @Task(name = "note")
        void note(String text);

        @Task(name = "boom")
        String boom(String message);

        @Task(name = "nothing")
        Integer nothing();

        /** Not a task: runs its own body on the client. */
        default long twice(long x) {
            return add(x, x);
        }
    }

    /** The worker side: no annotations of its own; the interface names its tasks and keywords. */
    public static final class FactsImpl implements Facts {
        final List<String> notes = new ArrayList<>();

        @Override
        public long add(long x, long y) {
            return x + y;
        }

        @Override
        public Report scrape(String source, Integer claims) {
            return new Report(source, claims == null ? 1 : claims);
        }

        @Override
        public List<Report> scrapeMany(List<String> sources) {
            return sources.stream().map(s -> new Report(s, s.length())).toList();
        }

        @Override
        public void note(String text) {
            notes.add(text);
        }

        @Override
        public String boom(String message) {
            throw new IllegalStateException(message);
        }

        @Override
        public Integer nothing() {
            return null;
        }
    }

    /** A client-only interface: async variants, options, an untyped handle. */
    public interface FactsAsync {
        @Task(name = "scrape_one")
        TypedResult<Report> scrape(String source, @Kwarg("claims") Integer claims);

        @Task(name = "add")
        TypedResult<Long> add(long x, long y, SendOptions options);

        @Task(name = "add")
        AsyncResult addUntyped(long x, long y);

        @Task(name = "nothing")
        int nothingAsInt();

        @Task(name = "scrape_one")
        long scrapeAsLong(String source);
    }

    private final FactsImpl impl = new FactsImpl();
    private final Celeriac app = Celeriac.eager(new TaskRegistry().register(impl));

    @AfterEach
    void close() {
        app.close();
    }

    @Test
    void aTaskRefSendsByNameAndConvertsTheResultToItsType() {
        TaskRef<Long> add = TaskRef.of("add", Long.class);
        TaskRef<Report> scrape = TaskRef.of("scrape_one", Report.class);
        TaskRef<List<Report>> many = TaskRef.of("scrape_many", new TypeRef<List<Report>>() {});

        assertThat(add.delay(app, 2, 3).get(NOW)).isEqualTo(5L);
        assertThat(scrape.apply(app, List.of("wire"), Map.of("claims", 4), SendOptions.NONE).get(NOW))
                .isEqualTo(new Report("wire", 4));
        List<Report> reports = many.delay(app, List.of("ab", "abc")).get(NOW);
        assertThat(reports).containsExactly(new Report("ab", 2), new Report("abc", 3));
        assertThat(reports.get(0)).isInstanceOf(Report.class); // the element type came through, not a Map
    }

    @Test
    @SuppressWarnings({"rawtypes", "unchecked"})
    void aTypeRefWithoutItsTypeArgumentIsRefused() {
        assertThatThrownBy(() -> new TypeRef() {}).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("new TypeRef<List<Report>>() {}");
        assertThat(new TypeRef<List<Report>>() {}.type().getTypeName()).isEqualTo("java.util.List<" + Report.class.getName() + ">");
    }

    @Test
    void aClientIsEqualOnlyToItselfAndSaysWhatItIs() {
        Facts facts = app.client(Facts.class);
        assertThat(facts).isEqualTo(facts).isNotEqualTo(app.client(Facts.class));
        assertThat(facts.hashCode()).isEqualTo(System.identityHashCode(facts));
        assertThat(facts.toString()).startsWith("task client Facts on memory://");
    }

    @Test
    void aTaskRefsOptionsAndIdReachTheMessage() {
        TaskRef<Long> add = TaskRef.of("add", Long.class);
        TypedResult<Long> r = add.apply(app, SendOptions.options().withTaskId("typed-1").withQueue("maths"), 1, 1);
        assertThat(r.id()).isEqualTo("typed-1");
        assertThat(r.task()).isEqualTo("add");
        assertThat(add.result(app, "typed-1").get(NOW)).isEqualTo(2L);
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
    }

    @Test
    void typedSignaturesComposeIntoChainsAndGroups() {
        TaskRef<Long> add = TaskRef.of("add", Long.class);
        AsyncResult chain = app.apply(Canvas.chain(add.s(1, 2), add.s(10), add.si(100, 1)));
        assertThat(add.result(app, chain).get(NOW)).isEqualTo(101L);
        assertThat(chain.parent().orElseThrow().get(NOW).asLong()).isEqualTo(13L);
        GroupResult g = app.applyGroup(Canvas.group(add.s(1, 1), add.s(2, 2)));
        assertThat(g.results().stream().map(r -> add.result(app, r).get(NOW)).toList()).containsExactly(2L, 4L);
    }

    @Test
    void aResultOfAnotherShapeFailsWithOneLineNamingTheTaskAndTheType() {
        TaskRef<Report> wrong = TaskRef.of("add", Report.class);
        TypedResult<Report> r = wrong.delay(app, 2, 3);
        assertThatThrownBy(r::get).isInstanceOf(ResultTypeException.class)
                .hasMessageStartingWith("task 'add' [" + r.id() + "]: its result 5 is not Report (")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        TaskRef<List<Long>> list = TaskRef.of("scrape_one", new TypeRef<List<Long>>() {});
        assertThatThrownBy(() -> list.delay(app, "x").get()).isInstanceOf(ResultTypeException.class)
                .hasMessageContaining("task 'scrape_one'").hasMessageContaining("is not List<Long>");
    }

    @Test
    void theInterfacesImplementationIsRegisteredUnderTheInterfacesNames() {
        assertThat(app.registry().names()).containsExactly("add", "boom", "note", "nothing", "scrape_many", "scrape_one");
        // the @Kwarg on the interface names (and makes optional) the implementation's parameter
        assertThat(app.registry().require("scrape_one").parameters().get(1).name()).isEqualTo("claims");
        assertThat(app.registry().require("scrape_one").parameters().get(1).optional()).isTrue();
    }

    @Test
    void aClientMethodReturningTheValueSendsWaitsAndConverts() {
        Facts facts = app.client(Facts.class);
        assertThat(facts.add(20, 22)).isEqualTo(42L);
        assertThat(facts.scrape("wire", 7)).isEqualTo(new Report("wire", 7));
        assertThat(facts.scrapeMany(List.of("a"))).containsExactly(new Report("a", 1));
        assertThat(facts.nothing()).isNull();
        assertThat(facts.twice(4)).isEqualTo(8L); // a default method without @Task runs its body
    }

    @Test
    void aNullKwargIsLeftOutSoTheTasksDefaultApplies() {
        TypedResult<Report> r = app.client(FactsAsync.class).scrape("wire", null);
        assertThat(r.get(NOW)).isEqualTo(new Report("wire", 1));
        assertThat(app.client(FactsAsync.class).scrape("wire", 3).get(NOW)).isEqualTo(new Report("wire", 3));
    }

    @Test
    void aVoidMethodSendsFireAndForget() {
        app.client(Facts.class).note("remember");
        assertThat(impl.notes).containsExactly("remember");
    }

    @Test
    void asyncVariantsReturnHandlesAndTakeSendOptions() {
        FactsAsync client = app.client(FactsAsync.class);
        TypedResult<Long> r = client.add(1, 2, SendOptions.options().withTaskId("opt-1"));
        assertThat(r.id()).isEqualTo("opt-1");
        assertThat(r.get(NOW)).isEqualTo(3L);
        AsyncResult raw = client.addUntyped(1, 2);
        assertThat(raw.get(NOW).asLong()).isEqualTo(3L);
    }

    @Test
    void asyncOfASharedInterfacesMethodSendsWithoutWaiting() {
        Facts facts = app.client(Facts.class);
        TypedResult<Report> r = TypedResult.async(facts, f -> f.scrape("wire", 2));
        assertThat(r.task()).isEqualTo("scrape_one");
        assertThat(r.get(NOW)).isEqualTo(new Report("wire", 2));
        TypedResult<Long> sum = TypedResult.async(facts, f -> f.add(1, 2)); // a primitive method: boxed
        assertThat(sum.get(NOW)).isEqualTo(3L);
        assertThatThrownBy(() -> TypedResult.async(facts, f -> 1L)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("called none");
        assertThatThrownBy(() -> TypedResult.async(facts, f -> f.add(1, 1) + f.add(2, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sends one task");
        assertThatThrownBy(() -> TypedResult.async(impl, f -> f.add(1, 1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Celeriac.client");
    }

    @Test
    void aFailedTaskThrowsTaskFailedExceptionFromTheCall() {
        assertThatThrownBy(() -> app.client(Facts.class).boom("no source")).isInstanceOf(TaskFailedException.class)
                .hasMessageContaining("no source");
    }

    @Test
    void aNullForAPrimitiveOrAValueOfAnotherKindIsAResultTypeException() {
        FactsAsync client = app.client(FactsAsync.class);
        assertThatThrownBy(client::nothingAsInt).isInstanceOf(ResultTypeException.class)
                .hasMessageContaining("task 'nothing'").hasMessageContaining("is not int");
        assertThatThrownBy(() -> client.scrapeAsLong("wire")).isInstanceOf(ResultTypeException.class)
                .hasMessageContaining("task 'scrape_one'").hasMessageContaining("is not long");
    }

    @Test
    void aPythonStyleCallByNameRunsTheSameTask() {
        assertThat(app.send("add", 2, 3).get(NOW, Long.class)).isEqualTo(5L);
        JsonNode r = app.send("scrape_one", List.of(), Map.of("source", "wire", "claims", 9), SendOptions.NONE).get(NOW);
        assertThat(r.get("source").asText()).isEqualTo("wire");
        assertThat(r.get("claims").asInt()).isEqualTo(9);
    }

    @Test
    void theBlockingCallWaitsUpToTheResultTimeout() {
        // a real broker nobody consumes: memory://, no worker, so the call waits out result_timeout
        Config c = Config.builder().set(Settings.BROKER_URL, "memory://typed-timeout-" + System.nanoTime())
                .set(Settings.RESULT_TIMEOUT, Duration.ofMillis(200)).build();
        try (Celeriac idle = Celeriac.open(c, new TaskRegistry())) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> idle.client(Facts.class).add(1, 2)).isInstanceOf(ResultTimeoutException.class)
                    .hasMessageContaining("PENDING");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
            assertThatThrownBy(() -> idle.client(Quick.class).add(1, 2)).isInstanceOf(ResultTimeoutException.class)
                    .hasMessageContaining("after waiting 0 ms");
        }
    }

    public interface Routed {
        @Task(name = "add", queue = "maths", priority = 3)
        TypedResult<Long> add(long x, long y);

        @Task(name = "add", queue = "maths")
        TypedResult<Long> add(long x, long y, SendOptions options);
    }

    @Test
    void theInterfacesQueueAndPriorityGoWithTheCallAndTheCallsOwnWin() throws Exception {
        Config c = Config.builder().set(Settings.BROKER_URL, "memory://typed-routed-" + System.nanoTime()).build();
        try (Celeriac pure = Celeriac.open(c, new TaskRegistry())) {
            Routed routed = pure.client(Routed.class);
            routed.add(1, 2);
            routed.add(1, 2, SendOptions.options().withQueue("other"));
            assertThat(pure.broker().size("maths")).isEqualTo(1);
            assertThat(pure.broker().size("other")).isEqualTo(1);
            var d = pure.broker().reserve(List.of("maths"), 1, Duration.ofSeconds(1));
            assertThat(io.celeriac.protocol.Json.read(d.get(0).payload()).path("properties").path("priority").asInt())
                    .isEqualTo(3);
        }
    }

    @TaskClient(resultTimeout = 0)
    public interface Quick {
        @Task(name = "add")
        long add(long x, long y);
    }

    public interface Broken {
        String untitled(String x);

        @Task(name = "a")
        CompletableFuture<String> future();

        @Task(name = "b")
        @SuppressWarnings("rawtypes")
        TypedResult raw();

        @Task(name = "c")
        String bound(TaskContext ctx);

        @Task(name = "d")
        <T> T generic();

        @Task(name = "e")
        String twice(@Kwarg("k") String a, @Kwarg("k") String b);
    }

    @Test
    void anInterfaceThatCannotBeAClientFailsAtClientTimeNamingEveryMethod() {
        assertThatThrownBy(() -> app.client(Broken.class)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Broken cannot be a task client: ")
                .hasMessageContaining("Broken.untitled has no @Task naming the task it sends")
                .hasMessageContaining("Broken.future (task 'a') returns CompletableFuture")
                .hasMessageContaining("Broken.raw (task 'b') returns a raw TypedResult")
                .hasMessageContaining("Broken.bound (task 'c') takes a TaskContext")
                .hasMessageContaining("Broken.generic (task 'd') returns T, which has a type variable")
                .hasMessageContaining("Broken.twice (task 'e') has two @Kwarg(\"k\")")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThatThrownBy(() -> app.client(FactsImpl.class)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not an interface");
    }

    @TaskClient(resultTimeout = -5)
    public interface BadTimeout {
        @Task(name = "add")
        long add(long x, long y);
    }

    @Test
    void aNegativeResultTimeoutIsRefusedAtClientTime() {
        assertThatThrownBy(() -> app.client(BadTimeout.class)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("@TaskClient(resultTimeout = -5.0) must be seconds >= 0");
    }

    public interface Named {
        @Task(name = "one")
        long one();
    }

    /** Renames the interface's task: refused, or worker and client would disagree. */
    public static final class Renamed implements Named {
        @Override
        @Task(name = "two")
        public long one() {
            return 1;
        }
    }

    /** Adds options to the interface's task under the same name: fine. */
    public static final class Tuned implements Named {
        @Override
        @Task(name = "one", maxRetries = 7)
        public long one() {
            return 1;
        }
    }

    @Test
    void anImplementationMayTuneButNotRenameItsInterfacesTask() {
        assertThatThrownBy(() -> new TaskRegistry().register(new Renamed())).isInstanceOf(ConfigException.class)
                .hasMessage("Renamed.one is task 'two' but Named.one, which it implements, is task 'one'; give both one name");
        assertThat(new TaskRegistry().register(new Tuned()).require("one").options().maxRetries()).isEqualTo(7);
    }

    @Test
    void aClientsAsyncVariantsAreNotRegisteredByAWorker() {
        assertThatThrownBy(() -> new TaskRegistry().register(new Object() {
            @Task(name = "x")
            public TypedResult<Long> x() {
                return null;
            }
        })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no public methods annotated with @Task");
    }
}
