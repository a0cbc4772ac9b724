package io.celeriac.spi;

import java.time.Instant;

/** The last heartbeat a node (worker) recorded: its JSON state and when it was recorded. */
public record NodeBeat(String node, String json, Instant at) {
    /** The type its JSON gives: worker-online / worker-heartbeat (a worker), beat…, event-listener; "" if none. */
    public String type() {
        try {
            return io.celeriac.protocol.Json.read(json).path("type").asText("");
        } catch (Exception malformed) {
            return "";
        }
    }

    /** A worker's heartbeat (not a beat's, not an event listener's announcement). */
    public boolean isWorker() {
        String t = type();
        return !t.startsWith("beat") && !t.equals(QueueEvents.LISTENER_TYPE);
    }

    /** A beat's heartbeat. */
    public boolean isBeat() {
        return type().startsWith("beat");
    }
}
