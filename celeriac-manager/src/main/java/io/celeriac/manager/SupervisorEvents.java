package io.celeriac.manager;

/** What the supervisor reports beyond its log: the events that warrant an alert. */
public interface SupervisorEvents {
    /** The process was given up on. */
    void fatal(String process, String why);

    /** The process died {@code crashes} times within ten minutes. */
    void crashLoop(String process, int crashes);

    SupervisorEvents NONE = new SupervisorEvents() {
        @Override
        public void fatal(String process, String why) {
        }

        @Override
        public void crashLoop(String process, int crashes) {
        }
    };
}
