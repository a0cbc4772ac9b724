package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskState;
import java.util.Objects;

/**
 * One header task of a chord that has finished (Celery's {@code on_chord_part_return}): recorded
 * under its group; the part that completes the group fires the {@link ChordBody}, exactly once.
 *
 * @param groupId    the chord header's group id (the message's {@code group} header)
 * @param groupIndex its place in the header ({@code group_index}), or null (then it sorts last, as Celery's {@code +inf})
 * @param taskId     the header task's id
 * @param state      how it ended (SUCCESS; FAILURE or REVOKED fail the body with {@code ChordError})
 * @param result     its result as Celery encodes it for the join (the value, or the exception object)
 * @param body       what the group's completion causes
 */
public record ChordPart(String groupId, Integer groupIndex, String taskId, TaskState state, JsonNode result, ChordBody body) {
    public ChordPart {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(body, "body");
    }

    /**
     * The entry Celery's Redis backend keeps in its join set: {@code [1, task_id, state, result]},
     * written with Python's separators so entries from Python and Java workers look alike.
     */
    public String joinEntry() {
        return "[1, " + io.celeriac.protocol.Json.write(taskId) + ", " + io.celeriac.protocol.Json.write(state.name()) + ", "
                + io.celeriac.protocol.PythonJson.write(result) + "]";
    }
}
