package io.celeriac;

/**
 * An application: the unit that registers tasks, named with {@code --app} / the {@code app}
 * setting (Celery's {@code -A}), or found on the class path when listed in
 * {@code META-INF/services/io.celeriac.CeleriacApp}. Needs a public no-argument constructor.
 */
public interface CeleriacApp {
    void register(TaskRegistry tasks);
}
