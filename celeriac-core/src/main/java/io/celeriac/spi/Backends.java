package io.celeriac.spi;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Secrets;
import io.celeriac.config.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/** Opens the broker, result store and coordination named by {@code broker_url}, {@code result_backend} and {@code coordination_url}. */
public final class Backends {
    private Backends() {
    }

    public static Broker openBroker(Config config) {
        String url = config.get(Settings.BROKER_URL);
        return provider(url, "broker_url").openBroker(url, config);
    }

    public static ResultStore openResultStore(Config config) {
        String url = resultUrl(config);
        return provider(url, "result_backend").openResultStore(url, config);
    }

    /** The task history, kept beside the results ({@code result_backend}, else {@code broker_url}). */
    public static TaskHistory openTaskHistory(Config config) {
        String url = resultUrl(config);
        return provider(url, "result_backend").openTaskHistory(url, config);
    }

    /**
     * Presence, revocations, locks, records and counters: at {@code coordination_url}, else the
     * result backend's URL, else the broker's.
     */
    public static Coordination openCoordination(Config config) {
        String url = coordinationUrl(config);
        return provider(url, coordinationSetting(config)).openCoordination(url, config);
    }

    /** Checks that {@code broker_url} and {@code result_backend} parse and name a known scheme, without connecting. */
    public static void checkUrls(Config config) {
        provider(config.get(Settings.BROKER_URL), "broker_url");
        provider(resultUrl(config), "result_backend");
        provider(coordinationUrl(config), coordinationSetting(config));
    }

    /** {@code coordination_url}, or {@link #resultUrl} when it is empty. */
    public static String coordinationUrl(Config config) {
        String url = config.get(Settings.COORDINATION_URL);
        return url == null || url.isBlank() ? resultUrl(config) : url;
    }

    /** The setting a coordination URL came from, for error messages. */
    private static String coordinationSetting(Config config) {
        String url = config.get(Settings.COORDINATION_URL);
        if (url != null && !url.isBlank()) {
            return "coordination_url";
        }
        String results = config.get(Settings.RESULT_BACKEND);
        return results == null || results.isBlank() ? "broker_url" : "result_backend";
    }

    /** {@code result_backend}, or {@code broker_url} when it is empty. */
    public static String resultUrl(Config config) {
        String url = config.get(Settings.RESULT_BACKEND);
        return url == null || url.isBlank() ? config.get(Settings.BROKER_URL) : url;
    }

    static BackendProvider provider(String url, String setting) {
        int colon = url.indexOf(':');
        if (colon <= 0 || !url.substring(0, colon).matches("[a-zA-Z][a-zA-Z0-9+.-]*")) {
            throw new ConfigException(setting + " '" + Secrets.redact(url) + "' is not a URL; expected e.g. sqlite:celeriac.db");
        }
        String scheme = url.substring(0, colon).toLowerCase(java.util.Locale.ROOT);
        List<BackendProvider> all = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            if (p.schemes().contains(scheme)) {
                return p;
            }
            all.add(p);
        }
        TreeSet<String> known = new TreeSet<>();
        all.forEach(p -> known.addAll(p.schemes()));
        throw new ConfigException(setting + " '" + Secrets.redact(url) + "': no broker module for scheme '" + scheme + "' (available: "
                + String.join(", ", known) + ")");
    }
}
