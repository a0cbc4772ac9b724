package io.celeriac;

/**
 * An application: the unit that registers tasks, named with {@code --app} / the {@code app}
 * setting (Celery's {@code -A}), or found on the class path when listed in
 * {@code META-INF/services/io.celeriac.CeleriacApp}. Needs a public no-argument constructor.
 *
 * <pre>{@code
 * package com.example;
 *
 * public final class MyApp implements CeleriacApp {
 *     public void register(TaskRegistry tasks) {
 *         tasks.register(new ReportTasks());
 *     }
 * }
 * // celeriac worker --app com.example.MyApp, or list com.example.MyApp in
 * // src/main/resources/META-INF/services/io.celeriac.CeleriacApp
 * }</pre>
 */
public interface CeleriacApp {
    /**
     * Registers the app's tasks; called once in every worker (and process-pool child) and client that loads the app.
     *
     * @param tasks the registry to add them to
     */
    void register(TaskRegistry tasks);
}
