package io.celeriac.spring;

import io.celeriac.Task;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** A small application: a task bean whose task method uses a dependency Spring injects. */
@Configuration(proxyBeanMethods = false)
class TaskBeansApp {

    /** The dependency. */
    static final class Greeter {
        final AtomicInteger greeted = new AtomicInteger();

        String greet(String name) {
            greeted.incrementAndGet();
            return "Hello, " + name + "!";
        }
    }

    /** The tasks, as a Spring bean. */
    public static final class GreetingTasks {
        private final Greeter greeter;

        GreetingTasks(Greeter greeter) {
            this.greeter = greeter;
        }

        @Task(name = "greet")
        public String greet(String name) {
            return greeter.greet(name);
        }

        @Task(name = "nap")
        public double nap(double seconds) throws InterruptedException {
            Thread.sleep(Math.round(seconds * 1000));
            return seconds;
        }
    }

    /** Tasks named on an interface (as one shared with a typed client): the implementing bean runs them. */
    public interface Shouting {
        @Task(name = "shout")
        String shout(String text);
    }

    @Bean
    Shouting shouting(Greeter greeter) {
        return text -> greeter.greet(text).toUpperCase(java.util.Locale.ROOT);
    }

    /** A typed client of the same interface, as a bean: it sends; the bean above runs. */
    @Bean
    Shouting shoutingClient(io.celeriac.Celeriac celeriac) {
        return celeriac.client(Shouting.class);
    }

    @Bean
    Greeter greeter() {
        return new Greeter();
    }

    @Bean
    GreetingTasks greetingTasks(Greeter greeter) {
        return new GreetingTasks(greeter);
    }
}
