package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a chord's completion causes, computed by the worker that records a header part: the body's
 * messages given the header's results, or the body's failure given the reason. A store calls one of
 * the two, exactly once per chord, inside the step that records the completing part.
 */
public interface ChordBody {
    /** The body's task id. */
    String bodyId();

    /** The effects of starting the body with {@code results} (a JSON array, in header order) as its first argument. */
    Effects complete(JsonNode results);

    /**
     * The effects of a header task that failed or was revoked: the body (and the rest of its chain)
     * stored as FAILURE {@code ChordError} with {@code reason}, and the body's errbacks applied.
     */
    Effects failed(String reason);
}
