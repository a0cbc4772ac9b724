package io.celeriac.dashboard;

import io.celeriac.ConfigException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code dashboard_auth}: nobody asked (empty), a bearer token ({@code bearer:TOKEN}: the
 * {@code Authorization: Bearer} header, or the session cookie its login page sets), or basic auth
 * with a stored PBKDF2 hash ({@code basic:USER:HASH}, see {@link PasswordHash}). Comparisons are in
 * constant time; a basic credential that verified once is remembered by its SHA-256 so that a page
 * that polls does not pay PBKDF2 each time.
 */
public final class Auth {
    /** The cookie the bearer login sets: an HMAC of the token, never the token itself. */
    static final String COOKIE = "celeriac_dashboard";

    private final String kind;
    private final String user;
    private final String secret;
    private final Set<String> verified = Collections.newSetFromMap(Collections.synchronizedMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> e) {
            return size() > 64;
        }
    }));

    private Auth(String kind, String user, String secret) {
        this.kind = kind;
        this.user = user;
        this.secret = secret;
    }

    /** Parses the setting; a value of the wrong form is a {@link ConfigException} (exit 2). */
    public static Auth parse(String value) {
        String v = value == null ? "" : value.trim();
        if (v.isEmpty()) {
            return new Auth("none", null, null);
        }
        if (v.startsWith("bearer:")) {
            String token = v.substring("bearer:".length());
            if (token.length() < 16) {
                throw new ConfigException("dashboard_auth: a bearer token must be at least 16 characters");
            }
            return new Auth("bearer", null, token);
        }
        if (v.startsWith("basic:")) {
            String rest = v.substring("basic:".length());
            int colon = rest.indexOf(':');
            if (colon < 1 || !PasswordHash.wellFormed(rest.substring(colon + 1))) {
                throw new ConfigException("dashboard_auth: expected basic:USER:HASH with HASH from 'celeriac dashboard hash-password'"
                        + " (pbkdf2-sha256$ITERATIONS$SALT$HASH)");
            }
            return new Auth("basic", rest.substring(0, colon), rest.substring(colon + 1));
        }
        throw new ConfigException("dashboard_auth must be empty, bearer:TOKEN or basic:USER:HASH");
    }

    /** No credentials asked. */
    public boolean isOpen() {
        return kind.equals("none");
    }

    boolean isBearer() {
        return kind.equals("bearer");
    }

    boolean isBasic() {
        return kind.equals("basic");
    }

    /**
     * Who made the request: "anonymous" when no credentials are asked, the user or "token" when the
     * request carries the right ones, else null.
     */
    String principal(String authorization, String cookieHeader) {
        if (isOpen()) {
            return "anonymous";
        }
        if (isBearer()) {
            if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                    && equal(authorization.substring(7).trim(), secret)) {
                return "token";
            }
            String c = cookie(cookieHeader, COOKIE);
            return c != null && equal(c, sessionValue()) ? "token" : null;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String digest = sha256(authorization.substring(6).trim());
        if (verified.contains(digest)) {
            return user;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0 || !equal(decoded.substring(0, colon), user)
                || !PasswordHash.verify(decoded.substring(colon + 1).toCharArray(), secret)) {
            return null;
        }
        verified.add(digest);
        return user;
    }

    /** Whether a token typed into the login page is the bearer token. */
    boolean tokenMatches(String token) {
        return isBearer() && token != null && equal(token.trim(), secret);
    }

    /** The login cookie's value: derived from the token, so it stops working when the token changes. */
    String sessionValue() {
        return sha256("celeriac-dashboard-session:" + secret);
    }

    /** A value derived from the configured secret (or nothing), for the CSRF tokens. */
    String secretDigest() {
        return sha256("celeriac-dashboard-csrf:" + kind + ":" + (secret == null ? "" : secret));
    }

    static String cookie(String header, String name) {
        if (header == null) {
            return null;
        }
        for (String part : header.split(";")) {
            String p = part.trim();
            if (p.startsWith(name + "=")) {
                return p.substring(name.length() + 1);
            }
        }
        return null;
    }

    private static boolean equal(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256(String s) {
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
