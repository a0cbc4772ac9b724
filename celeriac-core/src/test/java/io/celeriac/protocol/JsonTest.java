package io.celeriac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Json#write} of a tree goes around the mapper: it must give the mapper's text, byte for byte. */
class JsonTest {
    @Test
    void aTreeIsWrittenAsTheMapperWritesIt() throws Exception {
        ObjectNode o = Json.NODES.objectNode();
        o.putNull("none");
        o.put("text", "ünïcödé \"quoted\" \\ back\nline\ttab \u0001 \u2028 😀");
        o.put("int", 42).put("neg", -7).put("long", 1L << 40).put("short", (short) 3);
        o.put("big", new BigInteger("123456789012345678901234567890"));
        o.put("double", 1.0).put("negzero", -0.0).put("pi", 3.141592653589793).put("tiny", 1e-300);
        o.put("nan", Double.NaN).put("inf", Double.POSITIVE_INFINITY).put("float", 2.5f);
        o.put("decimal", new BigDecimal("1.50"));
        o.put("yes", true).put("no", false);
        o.putArray("empty");
        o.putObject("emptyObj");
        ArrayNode nested = o.putArray("nested");
        nested.add(1).add("two").addNull().addObject().put("k", List.of(1, 2).toString()).putArray("deep").add(3.5);
        o.set("pojo", Json.NODES.pojoNode(Map.of("a", 1)));
        o.set("binary", Json.NODES.binaryNode(new byte[] {1, 2, 3}));
        String byMapper = Json.MAPPER.writeValueAsString(o);
        assertThat(Json.write(o)).isEqualTo(byMapper);
        // counted as the mapper's UTF-8 writer writes it (which escapes a character outside the BMP as two \\u escapes)
        assertThat(Json.byteSize(o)).isEqualTo(Json.MAPPER.writeValueAsBytes(o).length);
        assertThat(Json.write(Json.NODES.nullNode())).isEqualTo("null");
        assertThat(Json.write(Json.NODES.textNode("x"))).isEqualTo("\"x\"");
        // and what a message reads is written back the same
        JsonNode read = Json.read("{\"a\":[1,2.0,-0.0,1e400,\"\\u00e9\",{\"b\":null}],\"c\":12345678901234567890}");
        assertThat(Json.write(read)).isEqualTo(Json.MAPPER.writeValueAsString(read));
    }
}
