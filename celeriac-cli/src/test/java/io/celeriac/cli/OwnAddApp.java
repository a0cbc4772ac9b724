package io.celeriac.cli;

import io.celeriac.CeleriacApp;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;

/** A user's app with its own {@code add}, the name the example app also registers. */
public final class OwnAddApp implements CeleriacApp {
    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(Tasks.raw("add", ctx -> "own " + (ctx.args().get(0).asInt() + ctx.args().get(1).asInt())));
    }
}
