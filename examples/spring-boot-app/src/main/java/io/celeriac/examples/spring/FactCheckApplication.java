package io.celeriac.examples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The seed's fact-checking backend as a Spring Boot application: {@code POST /scrapes} sends
 * {@code scrape_all_sources}, the embedded worker runs it ({@link ScrapeTasks}) and stores what it
 * found in the application's database ({@link ScrapeStore}, Spring JDBC on SQLite), and beat, inside
 * the application, checks that database every 5 minutes. Run it with
 * {@code java -jar examples/spring-boot-app/target/fact-check.jar}.
 */
@SpringBootApplication
public class FactCheckApplication {

    /**
     * Starts the application.
     *
     * @param args Spring Boot's arguments ({@code --server.port=8081}, {@code --celeriac.broker-url=…})
     */
    public static void main(String[] args) {
        SpringApplication.run(FactCheckApplication.class, args);
    }
}
