package io.celeriac;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.util.ServiceLoader;

/** Loads the app named by the {@code app} setting, or every app listed on the class path. */
public final class Apps {
    private Apps() {
    }

    public static TaskRegistry load(Config config) {
        TaskRegistry registry = new TaskRegistry();
        String name = config.get(Settings.APP);
        if (name != null && !name.isBlank()) {
            instantiate(name.trim()).register(registry);
            return registry;
        }
        for (CeleriacApp app : ServiceLoader.load(CeleriacApp.class, Apps.class.getClassLoader())) {
            app.register(registry);
        }
        return registry;
    }

    static CeleriacApp instantiate(String className) {
        Class<?> c;
        try {
            c = Class.forName(className, true, Apps.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new ConfigException("app '" + className + "': class not found on the class path"
                    + " (put its jar on CELERIAC_CLASSPATH)");
        }
        if (!CeleriacApp.class.isAssignableFrom(c)) {
            throw new ConfigException("app '" + className + "' does not implement io.celeriac.CeleriacApp");
        }
        try {
            return (CeleriacApp) c.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new ConfigException("app '" + className + "' needs a public no-argument constructor");
        } catch (ReflectiveOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new ConfigException("app '" + className + "' could not be created: " + cause);
        }
    }
}
