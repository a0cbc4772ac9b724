package io.celeriac;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.util.Iterator;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Loads the app named by the {@code app} setting, or every app listed on the class path. An app
 * that cannot be loaded (not found, its static initialiser or constructor throws, its
 * {@code register()} throws) is a {@link ConfigException} naming the app and the real cause, in one line.
 */
public final class Apps {
    private Apps() {
    }

    public static TaskRegistry load(Config config) {
        return load(config, Apps.class.getClassLoader());
    }

    /** As {@link #load(Config)}, the app (or the apps listed) looked up with {@code loader}. */
    public static TaskRegistry load(Config config, ClassLoader loader) {
        TaskRegistry registry = new TaskRegistry();
        String name = config.get(Settings.APP);
        if (name != null && !name.isBlank()) {
            register(name.trim(), instantiate(name.trim(), loader), registry);
            return registry.annotate(io.celeriac.config.TaskAnnotations.of(config));
        }
        Iterator<CeleriacApp> apps = ServiceLoader.load(CeleriacApp.class, loader).iterator();
        while (true) {
            CeleriacApp app;
            try {
                if (!apps.hasNext()) {
                    break;
                }
                app = apps.next();
            } catch (ServiceConfigurationError e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                if (cause instanceof ExceptionInInitializerError init && init.getCause() != null) {
                    cause = init.getCause();
                }
                throw new ConfigException("an app listed in META-INF/services/io.celeriac.CeleriacApp could not be loaded: "
                        + (cause == e ? oneLine(e.getMessage()) : describe(cause)));
            }
            register(app.getClass().getName(), app, registry);
        }
        return registry.annotate(io.celeriac.config.TaskAnnotations.of(config)); // task_annotations over the tasks' own options
    }

    private static void register(String name, CeleriacApp app, TaskRegistry registry) {
        try {
            app.register(registry);
        } catch (ConfigException e) {
            throw e; // already says what is wrong (a task registered twice, a bad name, …)
        } catch (RuntimeException | LinkageError | AssertionError e) {
            throw new ConfigException("app '" + name + "': register() failed: " + describe(e));
        }
    }

    static CeleriacApp instantiate(String className, ClassLoader loader) {
        Class<?> c;
        try {
            c = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            throw new ConfigException("app '" + className + "': class not found on the class path"
                    + " (put its jar on CELERIAC_CLASSPATH)");
        } catch (ExceptionInInitializerError e) {
            throw new ConfigException("app '" + className + "': static initialiser failed: "
                    + describe(e.getCause() != null ? e.getCause() : e));
        } catch (NoClassDefFoundError e) {
            if (e.getMessage() != null && e.getMessage().startsWith("Could not initialize class")) {
                // its static initialiser failed earlier in this JVM
                throw new ConfigException("app '" + className + "': static initialiser failed: "
                        + describe(e.getCause() != null ? e.getCause() : e));
            }
            throw new ConfigException("app '" + className + "': cannot be loaded: " + describe(e));
        } catch (LinkageError e) {
            // found, but a class it needs is missing or incompatible (NoClassDefFoundError, UnsupportedClassVersionError, …)
            throw new ConfigException("app '" + className + "': cannot be loaded: " + describe(e));
        }
        if (!CeleriacApp.class.isAssignableFrom(c)) {
            throw new ConfigException("app '" + className + "' does not implement io.celeriac.CeleriacApp");
        }
        try {
            return (CeleriacApp) c.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new ConfigException("app '" + className + "' needs a public no-argument constructor");
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new ConfigException("app '" + className + "': constructor failed: " + describe(e.getCause()));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            Throwable cause = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
            throw new ConfigException("app '" + className + "' could not be created: " + describe(cause));
        }
    }

    /** {@code IllegalStateException: boom}: the simple class name and the message, on one line. */
    static String describe(Throwable t) {
        String msg = t.getMessage();
        return t.getClass().getSimpleName() + (msg == null || msg.isBlank() ? "" : ": " + oneLine(msg));
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.strip().replace('\r', ' ').replace('\n', ' ');
    }
}
