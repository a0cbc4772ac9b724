package io.celeriac.examples.spring;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** {@code POST /scrapes} sends a scrape; {@code GET /scrapes/{id}} tells its state and, once stored, what it found. */
@RestController
public class ScrapeController {
    private final ObjectProvider<Celeriac> celeriac;
    private final ScrapeStore store;

    /**
     * @param celeriac the client the starter made (absent only when its auto-configuration is excluded, as
     *                 bench/spring-boot-footprint does to measure the application without it)
     * @param store    the application's table
     */
    public ScrapeController(ObjectProvider<Celeriac> celeriac, ScrapeStore store) {
        this.celeriac = celeriac;
        this.store = store;
    }

    private Celeriac celeriac() {
        Celeriac c = celeriac.getIfAvailable();
        if (c == null) {
            throw new ResponseStatusException(HttpStatus.SERVICE_UNAVAILABLE, "Celeriac's auto-configuration is excluded");
        }
        return c;
    }

    /**
     * @param failureRate chance that an attempt meets a source that times out (default: the task's, 0.4)
     * @return 202 with the task's id
     */
    @PostMapping("/scrapes")
    public ResponseEntity<Map<String, Object>> scrape(@RequestParam(name = "failure_rate", required = false) Double failureRate) {
        Map<String, Object> kwargs = failureRate == null ? Map.of() : Map.of("failure_rate", failureRate);
        AsyncResult sent = celeriac().send("scrape_all_sources", List.of(), kwargs, SendOptions.NONE);
        return ResponseEntity.status(HttpStatus.ACCEPTED).body(Map.of("task_id", sent.id()));
    }

    /**
     * @param id the task's id
     * @return its state and, once the task stored it, its row
     */
    @GetMapping("/scrapes/{id}")
    public Map<String, Object> scrape(@PathVariable String id) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("task_id", id);
        out.put("state", celeriac().result(id).status());
        store.find(id).ifPresent(row -> out.put("stored", row));
        return out;
    }

    /** @return the last 20 stored scrapes */
    @GetMapping("/scrapes")
    public List<Map<String, Object>> latest() {
        return store.latest();
    }
}
