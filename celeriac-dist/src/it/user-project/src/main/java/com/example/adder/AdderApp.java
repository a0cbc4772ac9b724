package com.example.adder;

import io.celeriac.CeleriacApp;
import io.celeriac.Task;
import io.celeriac.TaskRegistry;

/** The user's own app: one task, {@code add}, whose result says whose it is. */
public final class AdderApp implements CeleriacApp {
    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(this);
    }

    @Task(name = "add")
    public String add(long x, long y) {
        return "adder says " + (x + y);
    }
}
