package io.celeriac.spi;

import io.celeriac.protocol.LogText;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background half of a log-structured {@link TaskHistory} (Redis's, the SQL stores'): a writer appends each
 * batch to a log and tells this ({@link #appended}); once {@link #FOLD_AT} batches were appended since the last
 * fold, or when asked ({@link #settle}), a thread of its own runs the store's fold — one at a time per store
 * instance. A fold that fails is logged once, with one line when folding works again; the batches stay in the
 * log for the next fold (a reader's, which folds before it reads, or this one's).
 */
public final class LogFolder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.history");
    /**
     * The batches appended by one instance after which it folds in the background: a worker's batch is at most
     * 500 records (about 150 KiB of a no-op task's), so its part of the log holds at most about 40 MiB unindexed.
     */
    public static final int FOLD_AT = 256;

    private final String what;
    private final Runnable fold;
    private final AtomicBoolean folding = new AtomicBoolean();
    private final AtomicInteger appended = new AtomicInteger();
    private volatile Thread folder;
    private volatile boolean failing;
    private volatile boolean closed;

    /**
     * @param what the store, for the log lines (its URL with any password masked)
     * @param fold the store's fold: indexes the log until it is empty or {@link #closed()}
     */
    public LogFolder(String what, Runnable fold) {
        this.what = what;
        this.fold = fold;
    }

    /** A batch was appended; {@code logLength}, when the store knows it (else -1), is the log's length in batches. */
    public void appended(long logLength) {
        if (appended.incrementAndGet() >= FOLD_AT || logLength >= FOLD_AT) {
            settle();
        }
    }

    /** Starts a fold on a thread of its own unless one is under way. */
    public void settle() {
        if (closed || !folding.compareAndSet(false, true)) {
            return;
        }
        appended.set(0);
        Thread t = new Thread(() -> {
            try {
                fold.run();
                if (failing) {
                    failing = false;
                    log.info("task history: indexing recorded tasks again ({})", what);
                }
            } catch (RuntimeException e) {
                if (!failing) {
                    failing = true;
                    log.warn("task history: cannot index recorded tasks ({}): {}; they stay in its log and are indexed on the next try",
                            what, LogText.escape(String.valueOf(e.getMessage())));
                }
            } finally {
                folding.set(false);
            }
        }, "celeriac-task-history-index");
        t.setDaemon(true);
        folder = t;
        t.start();
    }

    /** True once {@link #close} was called: a background fold stops after its step. */
    public boolean closed() {
        return closed;
    }

    /** Waits (up to 10 s) for a fold under way to end its step; what it left in the log is folded later. */
    @Override
    public void close() {
        closed = true;
        Thread t = folder;
        if (t != null) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
