package io.celeriac.cli;

import io.celeriac.CeleriacApp;
import io.celeriac.TaskRegistry;

/** Apps that cannot be loaded, each in its own way: what {@code --app} must say in one line. */
final class BrokenApps {
    private BrokenApps() {
    }

    /** register() throws. */
    public static final class RegisterThrows implements CeleriacApp {
        @Override
        public void register(TaskRegistry tasks) {
            throw new IllegalStateException("boom");
        }
    }

    /** The static initialiser throws. */
    public static final class StaticInitialiserThrows implements CeleriacApp {
        static final String CONFIG = load();

        private static String load() {
            throw new IllegalArgumentException("no app.properties");
        }

        @Override
        public void register(TaskRegistry tasks) {
        }
    }

    /** The constructor throws. */
    public static final class ConstructorThrows implements CeleriacApp {
        public ConstructorThrows() {
            throw new UnsupportedOperationException("not today");
        }

        @Override
        public void register(TaskRegistry tasks) {
        }
    }

    /** A task declares a rate limit that does not parse: registration fails naming the task. */
    public static final class BadRateLimit implements CeleriacApp {
        @io.celeriac.Task(name = "paced", rateLimit = "ten per second")
        public int paced() {
            return 1;
        }

        @Override
        public void register(TaskRegistry tasks) {
            tasks.register(this);
        }
    }
}
