package io.celeriac.cli;

import io.celeriac.CeleriacApp;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;

/**
 * A test app whose task {@code sink(text)} returns the length of its (big) argument (the message is
 * big, its result small), and {@code blow(n)} returns a string of n characters (the message small, its result big).
 */
public final class BigArgsApp implements CeleriacApp {
    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(Tasks.raw("sink", ctx -> ctx.args().get(0).asText().length()));
        tasks.register(Tasks.raw("blow", ctx -> "y".repeat(ctx.args().get(0).asInt())));
    }
}
