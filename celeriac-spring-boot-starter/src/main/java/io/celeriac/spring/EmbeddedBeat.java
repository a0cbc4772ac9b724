package io.celeriac.spring;

import io.celeriac.Celeriac;
import io.celeriac.beat.Beat;
import io.celeriac.beat.BeatService;
import io.celeriac.spi.Coordination;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Beat inside a Spring application ({@code celeriac.beat.enabled=true}): the same {@link Beat} as
 * {@code celeriac beat}, so that of many replicas of the application only the one holding the leader
 * lock sends ({@code beat_schedule}, and {@code celeriac.health_check} every
 * {@code health_check_interval}). Gives the lock up when the context closes, so another replica takes
 * over at once rather than after {@code beat_lock_timeout}.
 */
public final class EmbeddedBeat implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger("celeriac.spring");
    private final Beat beat;
    private final BeatService service;
    private volatile boolean running;

    /**
     * @param app  the application's client: its broker and coordination store
     * @param node this replica's name among the beats
     */
    public EmbeddedBeat(Celeriac app, String node) {
        Beat.validate(app.config());
        Coordination coordination = app.coordination();
        this.beat = new Beat(app.config(), app.broker(), coordination, Clock.systemUTC(), node);
        this.service = new BeatService(beat);
    }

    /** @return the beat (whether it leads, how many it sent) */
    public Beat beat() {
        return beat;
    }

    @Override
    public void start() {
        service.start();
        running = true;
    }

    @Override
    public void stop() {
        service.stop();
        try {
            if (!service.awaitStop(Duration.ofSeconds(10))) {
                log.warn("beat did not stop within 10 s; its leader lock lapses after beat_lock_timeout");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops before the worker: nothing more is sent once the application is going. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 1024;
    }
}
