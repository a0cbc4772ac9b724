package io.celeriac.beat;

import java.time.Instant;

/**
 * When an entry is due: a sequence of instants (slots). Beat fires each slot at most once, and
 * records the last one it fired.
 */
interface Schedule {

    /** The latest slot at or before {@code t}, or null when there is none. */
    Instant latestAtOrBefore(Instant t);

    /** The first slot strictly after {@code t}. */
    Instant nextAfter(Instant t);

    /** How a user would write it: "every 5m", "cron 0 *&#47;6 * * * (Europe/Madrid)". */
    String describe();
}
