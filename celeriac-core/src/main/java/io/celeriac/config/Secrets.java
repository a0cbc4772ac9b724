package io.celeriac.config;

/** Keeping passwords out of logs, stats and health records. */
public final class Secrets {
    private Secrets() {
    }

    /**
     * A URL with its password masked: the one in {@code scheme://user:password@host} (user may be
     * empty, as in {@code redis://:password@host}) and JDBC's {@code password=…} parameter.
     */
    public static String redact(String url) {
        if (url == null) {
            return null;
        }
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***").replaceAll("://([^:@/]*):[^@/]*@", "://$1:***@");
    }
}
