package io.celeriac.cli;

import io.celeriac.CeleriacApp;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;

/** A test app for the JSON log lines: {@code chatty(text)} logs at INFO and WARNING, {@code boom} raises. */
public final class JsonLogApp implements CeleriacApp {
    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(Tasks.raw("chatty", ctx -> {
            String text = ctx.args().get(0).asText();
            ctx.logger().info("chatty says {}", text);
            ctx.logger().warn("chatty warns about {}", ctx.id());
            return text.length();
        }));
        tasks.register(Tasks.raw("boom", ctx -> {
            throw new IllegalStateException("boom in " + ctx.id() + " at postgresql://app:Secr3tPw@db:5432/app");
        }));
    }
}
