package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.protocol.ExceptionInfo;
import java.time.Instant;

/** How one run of a task ended, as a pool reports it. */
sealed interface Outcome {
    /** Returned a value (already converted to JSON). */
    record Success(JsonNode value) implements Outcome {
    }

    /** Raised an exception, its arguments did not bind, or it ran past its hard time limit. */
    record Failure(ExceptionInfo exception) implements Outcome {
    }

    /** Asked to run again at {@code eta} (by {@code ctx.retry} or an automatic retry); {@code cause} may be null. */
    record RetryLater(Instant eta, ExceptionInfo cause) implements Outcome {
    }

    /** The process running it died (crash, {@code System.exit}, out of memory, killed). */
    record Lost(String reason) implements Outcome {
    }

    /** Never started: no child was free and none would come (the worker is stopping, or no child can start). */
    record NotStarted(String reason) implements Outcome {
    }
}
