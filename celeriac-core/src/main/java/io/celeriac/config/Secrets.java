package io.celeriac.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeping secrets out of everything Celeriac shows: {@code celeriac settings}, {@code inspect conf}
 * and {@code report}, status and health output, log lines, the worker's banner, error messages.
 * The one redaction; every display of a setting or a URL goes through it. What it masks (as
 * {@value #MASK}):
 *
 * <ul>
 *   <li>the password in a URL's user info ({@code scheme://user:password@host}, user may be empty,
 *       as in {@code redis://:password@host}); the user name stays;</li>
 *   <li>the value of every URL or JDBC parameter whose name says it holds a secret: any name
 *       containing {@code pass}, {@code pwd}, {@code secret}, {@code token}, {@code key},
 *       {@code credential} or {@code signature}, and {@code sig}, but not kombu's {@code routing_key} ({@code ?password=…},
 *       {@code &sslpassword=…}, {@code ;password=…}, {@code ?api_key=…});</li>
 *   <li>the token or password hash of a setting named {@code *_auth} ({@code dashboard_auth}:
 *       {@code bearer:***}, {@code basic:USER:***});</li>
 *   <li>the path and query of webhook URLs, which are the secret themselves: those of settings named
 *       {@code *webhook*} and those of the well-known webhook hosts (Slack, Discord, Microsoft Teams,
 *       Google Chat, Telegram bots, Zapier, IFTTT); scheme, host and port stay;</li>
 *   <li>the whole value of a setting, an environment variable or a mapping key whose name says it
 *       holds a secret ({@code password}, {@code token}, {@code secret}, …), as in a program's
 *       {@code environment}.</li>
 * </ul>
 */
public final class Secrets {
    /** What a secret is replaced with. */
    public static final String MASK = "***";

    private Secrets() {
    }

    /** Names of parameters, settings, variables or keys that hold a secret. */
    private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(pass|pwd|secret|token|key|credential|signature).*|sig");

    /** Names that match {@link #SECRET_NAME} but are not secrets (Celery's and kombu's own words). */
    private static final java.util.Set<String> NOT_SECRET = java.util.Set.of("routing_key", "binding_key", "key_prefix",
            "global_keyprefix", "passive");

    /**
     * {@code ://user:password@}: the password runs to the last {@code @} before whitespace (it may
     * hold an unescaped {@code /}, {@code ?} or {@code @}; when a path holds an {@code @} too, more
     * is masked than needed, never less).
     */
    private static final Pattern USER_INFO = Pattern.compile("://([^:@/?#\\s'\"]*):(\\S*)@");

    /** A parameter {@code name=value} after {@code ?}, {@code &}, {@code ;}, whitespace, a comma or the start. */
    private static final Pattern PARAMETER = Pattern.compile("(^|[?&;,\\s])([\\w.\\-\\[\\]]+)=([^&;#\\s'\",]*)");

    /** {@code scheme://[userinfo@]host[:port]} and the rest of the URL (path, query, fragment). */
    private static final Pattern URL = Pattern.compile(
            "([a-zA-Z][a-zA-Z0-9+.\\-]*://)(?:[^@/?#\\s'\"]*@)?([^/?#\\s'\":]+|\\[[0-9a-fA-F:.]+])(:\\d+)?([/?#][^\\s'\"]*)?");

    /** Hosts whose webhook URLs carry their token in the path. */
    private static final Pattern WEBHOOK_HOST = Pattern.compile(
            "(?i)hooks\\.slack\\.com|(?:ptb\\.|canary\\.)?discord(?:app)?\\.com|[\\w.\\-]*\\.webhook\\.office\\.com|outlook\\.office(?:365)?\\.com"
                    + "|chat\\.googleapis\\.com|api\\.telegram\\.org|hooks\\.zapier\\.com|maker\\.ifttt\\.com");

    /** Whether a setting, variable, parameter or key of this name holds a secret. */
    public static boolean isSecretName(String name) {
        return name != null && SECRET_NAME.matcher(name).matches() && !NOT_SECRET.contains(name.toLowerCase(Locale.ROOT));
    }

    /**
     * A URL, or any text that may hold URLs (an error message, a log line), with its secrets
     * masked: passwords in user info, secret-named parameters, the path and query of well-known
     * webhook URLs.
     */
    public static String redact(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        if (out.contains("://")) {
            out = USER_INFO.matcher(out).replaceAll(m -> Matcher.quoteReplacement("://" + m.group(1) + ":" + MASK + "@"));
            out = URL.matcher(out).replaceAll(m -> Matcher.quoteReplacement(
                    WEBHOOK_HOST.matcher(m.group(2)).matches() ? webhookOf(m) : m.group()));
        }
        if (out.indexOf('=') >= 0) {
            out = PARAMETER.matcher(out).replaceAll(m -> Matcher.quoteReplacement(isSecretName(m.group(2)) && !m.group(3).isEmpty()
                    ? m.group(1) + m.group(2) + "=" + MASK : m.group()));
        }
        return out;
    }

    /**
     * A webhook URL, whose path and query are the secret: only the scheme, host and port are kept
     * ({@code https://hooks.example.com/***}). Text that is not such a URL is masked whole.
     */
    public static String redactWebhook(String url) {
        if (url == null || url.isBlank()) {
            return url;
        }
        Matcher m = URL.matcher(url.trim());
        return m.matches() ? webhookOf(m) : MASK;
    }

    private static String webhookOf(java.util.regex.MatchResult m) {
        String port = m.group(3) == null ? "" : m.group(3);
        String rest = m.group(4) == null || m.group(4).equals("/") ? "" : "/" + MASK;
        return m.group(1) + m.group(2) + port + rest;
    }

    /**
     * The value of the setting (or variable, or key) {@code name} as it may be shown: masked whole
     * when the name says it is a secret, a webhook URL's path and query masked when the name says
     * it is a webhook, else {@link #redact(String)}.
     */
    public static String redact(String name, String value) {
        if (value == null || value.isEmpty()) {
            return value;
        }
        if (isSecretName(name)) {
            return MASK;
        }
        if (name != null && name.toLowerCase(Locale.ROOT).contains("webhook")) {
            return redactWebhook(value);
        }
        if (name != null && name.toLowerCase(Locale.ROOT).endsWith("_auth")) {
            return redactAuth(value);
        }
        return redact(value);
    }

    /**
     * A credential setting such as {@code dashboard_auth}: its scheme and user shown, its token or
     * password hash masked ({@code bearer:***}, {@code basic:ops:***}).
     */
    public static String redactAuth(String value) {
        if (value == null || value.isBlank()) {
            return value;
        }
        java.util.regex.Matcher m = Pattern.compile("^\\s*(bearer:|basic:[^:]*:)").matcher(value);
        return m.find() ? m.group(1) + MASK : MASK;
    }

    /**
     * A setting's value as it may be shown, for nested values too (a mapping such as
     * {@code programs} with an {@code environment}): each string by {@link #redact(String, String)}
     * under the nearest key's name; a scalar under a secret-named key masked whole.
     */
    public static Object redactValue(String name, Object value) {
        if (value instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, redactValue(String.valueOf(k), v)));
            return out;
        }
        if (value instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>();
            c.forEach(v -> out.add(redactValue(name, v)));
            return out;
        }
        if (value instanceof String s) {
            return redact(name, s);
        }
        if (value != null && isSecretName(name)) {
            return MASK; // a number or boolean given as a password
        }
        return value;
    }
}
