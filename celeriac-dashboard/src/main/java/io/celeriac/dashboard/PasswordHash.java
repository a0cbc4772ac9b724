package io.celeriac.dashboard;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * The dashboard's stored password form: {@code pbkdf2-sha256$ITERATIONS$SALT$HASH} (salt and hash
 * in unpadded URL-safe Base64), made with the JDK's {@code PBKDF2WithHmacSHA256}, as Django's
 * {@code pbkdf2_sha256} and passlib's forms do. {@code celeriac dashboard hash-password} prints one.
 */
public final class PasswordHash {
    /** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
    static final int ITERATIONS = 600_000;
    private static final String PREFIX = "pbkdf2-sha256";
    private static final SecureRandom RANDOM = new SecureRandom();

    private PasswordHash() {
    }

    /** A new hash of {@code password} with a random 16-byte salt. */
    public static String hash(char[] password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return hash(password, salt, ITERATIONS);
    }

    static String hash(char[] password, byte[] salt, int iterations) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        return PREFIX + "$" + iterations + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(derive(password, salt, iterations));
    }

    /** Whether {@code stored} has the right form (checked when the dashboard starts). */
    static boolean wellFormed(String stored) {
        String[] p = stored.split("\\$", -1);
        try {
            return p.length == 4 && p[0].equals(PREFIX) && Integer.parseInt(p[1]) >= 1000
                    && Base64.getUrlDecoder().decode(p[2]).length >= 8 && Base64.getUrlDecoder().decode(p[3]).length == 32;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether {@code password} matches {@code stored}, compared in constant time. */
    public static boolean verify(char[] password, String stored) {
        if (!wellFormed(stored)) {
            return false;
        }
        String[] p = stored.split("\\$", -1);
        byte[] salt = Base64.getUrlDecoder().decode(p[2]);
        byte[] expected = Base64.getUrlDecoder().decode(p[3]);
        return MessageDigest.isEqual(expected, derive(password, salt, Integer.parseInt(p[1])));
    }

    private static byte[] derive(char[] password, byte[] salt, int iterations) {
        PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, 256);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available in this JVM", e);
        } finally {
            spec.clearPassword();
        }
    }
}
