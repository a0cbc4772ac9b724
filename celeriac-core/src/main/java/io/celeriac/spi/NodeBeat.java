package io.celeriac.spi;

import java.time.Instant;

/** The last heartbeat a node (worker) recorded: its JSON state and when it was recorded. */
public record NodeBeat(String node, String json, Instant at) {
}
