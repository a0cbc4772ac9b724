package io.celeriac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class TaskBindingTest {

    public record Source(String name, int weight) {
    }

    public static class Annotated {
        @Task(name = "add")
        public int add(int x, int y) {
            return x + y;
        }

        @Task(name = "greet", queue = "io", maxRetries = 5)
        public String greet(TaskContext ctx, String name, List<String> tags) {
            return ctx.id() + ":" + name + tags;
        }

        @Task
        public String weigh(Source source, Map<String, Double> factors) {
            return source.name() + "=" + source.weight() * factors.getOrDefault("k", 1.0);
        }

        @Task(name = "scrape")
        public String scrape(@Param(value = "rate", optional = true) Double rate) {
            return rate == null ? "default" : "rate " + rate;
        }

        @Task(name = "count")
        public static long count(@Param("items") List<Integer> items) {
            return items.size();
        }
    }

    private final TaskRegistry registry = new TaskRegistry().register(new Annotated()).register(Annotated.class);

    private static ArrayNode args(String json) throws Exception {
        return (ArrayNode) Json.read(json);
    }

    private static ObjectNode kwargs(String json) throws Exception {
        return (ObjectNode) Json.read(json);
    }

    private Object call(String task, String args, String kwargs) throws Exception {
        TaskDefinition d = registry.require(task);
        return d.invoke(null, d.bind(args(args), kwargs(kwargs)));
    }

    @Test
    void bindsPositionalAndKeywordArgumentsByParameterName() throws Exception {
        assertThat(call("add", "[2, 3]", "{}")).isEqualTo(5);
        assertThat(call("add", "[2]", "{\"y\": 40}")).isEqualTo(42);
        assertThat(call("add", "[]", "{\"y\": 1, \"x\": 2}")).isEqualTo(3);
    }

    @Test
    void bindsRecordsMapsAndGenericLists() throws Exception {
        assertThat(call("weigh", "[{\"name\": \"rss\", \"weight\": 2}, {\"k\": 1.5}]", "{}")).isEqualTo("rss=3.0");
        assertThat(call("count", "[[1, 2, 3]]", "{}")).isEqualTo(3L);
    }

    @Test
    void aBoundTaskReceivesItsContextFirst() throws Exception {
        TaskDefinition d = registry.require("greet");
        assertThat(d.parameters()).extracting(TaskDefinition.Parameter::name).containsExactly("name", "tags");
        assertThat(d.options().queue()).isEqualTo("io");
        assertThat(d.options().maxRetries()).isEqualTo(5);
    }

    @Test
    void aMismatchNamesTheTaskTheParameterAndWhatCame() {
        assertThatThrownBy(() -> call("add", "[\"two\", 3]", "{}"))
                .isInstanceOf(ArgumentBindingException.class)
                .hasMessage("task 'add': argument 'x' must be int, got string \"two\"");
        assertThatThrownBy(() -> call("add", "[2.5, 3]", "{}")).hasMessageContaining("argument 'x' must be int, got number 2.5");
        assertThatThrownBy(() -> call("add", "[null, 3]", "{}")).hasMessageContaining("argument 'x' must be int, got null");
        assertThatThrownBy(() -> call("weigh", "[{\"name\": 1}, {}]", "{}")).hasMessageContaining("argument 'source' must be Source");
    }

    @Test
    void wrongArgumentCountsAndNamesAreReportedAsPythonWould() {
        assertThatThrownBy(() -> call("add", "[1, 2, 3]", "{}"))
                .hasMessage("task 'add' takes 2 positional arguments but 3 were given");
        assertThatThrownBy(() -> call("add", "[1]", "{}")).hasMessage("task 'add' is missing argument 'y'");
        assertThatThrownBy(() -> call("add", "[1, 2]", "{\"z\": 1}"))
                .hasMessage("task 'add' got an unexpected keyword argument 'z' (parameters: x, y)");
        assertThatThrownBy(() -> call("add", "[1, 2]", "{\"x\": 1}"))
                .hasMessage("task 'add' got multiple values for argument 'x'");
    }

    @Test
    void lambdasAreTasksTooWithNamedParameters() throws Exception {
        registry.register(Tasks.task("mul", int.class, int.class, (a, b) -> a * b).params("a", "b"));
        registry.register(Tasks.raw("echo", ctx -> "raw"));
        assertThat(call("mul", "[6]", "{\"b\": 7}")).isEqualTo(42);
        assertThat(registry.require("echo").bind(args("[1, \"x\"]"), kwargs("{\"k\": 1}"))).isEmpty();
    }

    @Test
    void anOptionalParameterMayBeLeftOutAndIsThenNull() throws Exception {
        assertThat(call("scrape", "[]", "{}")).isEqualTo("default");
        assertThat(call("scrape", "[]", "{\"rate\": 0.5}")).isEqualTo("rate 0.5");
    }

    @Test
    void theCurrentContextExistsOnlyInsideATask() {
        assertThatThrownBy(TaskContext::current)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("outside a running task");
    }

    @Test
    void anUnknownTaskNameSuggestsTheNearestOne() {
        assertThatThrownBy(() -> registry.require("ad"))
                .isInstanceOf(TaskNotRegisteredException.class)
                .hasMessage("task 'ad' is not registered; did you mean 'add'?");
    }

    @Test
    void aNameCanBeRegisteredOnlyOnce() {
        assertThatThrownBy(() -> registry.register(Tasks.task("add", () -> 1)))
                .hasMessage("task 'add' is registered twice");
    }

    @Test
    void exceptionsFromTheTaskPassThroughUnwrapped() {
        registry.register(Tasks.task("boom", () -> {
            throw new IllegalStateException("source down");
        }));
        assertThatThrownBy(() -> call("boom", "[]", "{}")).isExactlyInstanceOf(IllegalStateException.class);
    }
}
