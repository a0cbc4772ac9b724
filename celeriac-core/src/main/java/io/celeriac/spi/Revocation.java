package io.celeriac.spi;

import java.time.Instant;

/** A task id that must not run; with {@code terminate}, a run in progress is to be stopped too. */
public record Revocation(String taskId, boolean terminate, Instant at) {
}
