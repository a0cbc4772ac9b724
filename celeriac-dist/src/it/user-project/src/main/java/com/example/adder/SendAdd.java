package com.example.adder;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.ConfigLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** Sends add(X, Y) to the broker in CELERIAC_BROKER_URL and prints the result. */
public final class SendAdd {
    public static void main(String[] args) {
        var config = ConfigLoader.load(null, Path.of("."), System.getenv(), Map.of());
        try (Celeriac celeriac = Celeriac.open(config, new TaskRegistry())) {
            var result = celeriac.send("add", Long.parseLong(args[0]), Long.parseLong(args[1]));
            System.out.println(result.get(Duration.ofSeconds(60)).asText());
        }
    }
}
