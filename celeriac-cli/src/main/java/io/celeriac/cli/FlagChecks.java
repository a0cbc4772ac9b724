package io.celeriac.cli;

import io.celeriac.ConfigException;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks of command-line values that picocli takes as given: an empty queue or node name
 * ({@code -Q ""}, {@code -Q ",,,"}, {@code -n ""}) is a mistake said in one line (exit 2), not a
 * queue named "" or the default silently.
 */
final class FlagChecks {
    private FlagChecks() {
    }

    /**
     * {@code names} as given to {@code flag} (null: the flag was not given), each trimmed; an empty
     * one, or none at all ({@code -Q ",,,"}), is rejected as "{@code flag}: empty {@code what}".
     */
    static List<String> names(String flag, List<String> names, String what) {
        if (names == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (String n : names) {
            out.add(name(flag, n, what));
        }
        if (out.isEmpty()) {
            throw new ConfigException(flag + ": empty " + what);
        }
        return List.copyOf(out);
    }

    /** {@code value} of {@code flag} trimmed (null: not given); blank is rejected as "{@code flag}: empty {@code what}". */
    static String name(String flag, String value, String what) {
        if (value == null) {
            return null;
        }
        if (value.isBlank()) {
            throw new ConfigException(flag + ": empty " + what);
        }
        return value.trim();
    }
}
