package io.celeriac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class PythonReprTest {
    @Test
    void showsArgumentsAsAPythonTuple() throws Exception {
        assertThat(PythonRepr.args(Json.read("[2, 3]"))).isEqualTo("(2, 3)");
        assertThat(PythonRepr.args(Json.read("[\"a\"]"))).isEqualTo("('a',)");
        assertThat(PythonRepr.args(Json.read("[]"))).isEqualTo("()");
        assertThat(PythonRepr.args(Json.read("[true, null, 1.5, [1], \"it's\"]")))
                .isEqualTo("(True, None, 1.5, [1], \"it's\")");
    }

    @Test
    void showsKeywordArgumentsAsAPythonDict() throws Exception {
        assertThat(PythonRepr.kwargs(Json.read("{}"))).isEqualTo("{}");
        assertThat(PythonRepr.kwargs(Json.read("{\"a\": 1, \"b\": \"x\\ny\"}"))).isEqualTo("{'a': 1, 'b': 'x\\ny'}");
    }

    @Test
    void cutsLongValuesAtCeleryLimit() throws Exception {
        JsonNode big = Json.NODES.arrayNode().add("x".repeat(5000));
        String repr = PythonRepr.args(big);
        assertThat(repr).hasSize(PythonRepr.MAX_LENGTH).endsWith("...");
    }
}
