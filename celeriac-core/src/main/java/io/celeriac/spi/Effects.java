package io.celeriac.spi;

import io.celeriac.protocol.TaskResult;
import java.util.List;
import java.util.Map;

/**
 * Results to store, messages to publish and chord sizes to record, together: what applying a
 * signature or firing a chord body amounts to in a store.
 *
 * @param results      states to store
 * @param publications messages to publish
 * @param chordSizes   header sizes of chords being started, by group id (Celery's {@code set_chord_size})
 */
public record Effects(List<TaskResult> results, List<Publication> publications, Map<String, Integer> chordSizes) {
    public static final Effects NONE = new Effects(List.of(), List.of(), Map.of());

    public Effects {
        results = List.copyOf(results);
        publications = List.copyOf(publications);
        chordSizes = Map.copyOf(chordSizes);
    }

    public boolean isEmpty() {
        return results.isEmpty() && publications.isEmpty() && chordSizes.isEmpty();
    }
}
