package io.celeriac.protocol;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/**
 * Times as Celery writes them: {@code eta}/{@code expires} headers are ISO-8601 with an offset
 * ({@code 2026-11-24T13:20:29.787612+00:00}); {@code date_done} in results is naive UTC
 * ({@code 2026-11-24T13:20:21.970450}). Python's {@code isoformat} drops the fraction when it is zero,
 * so parsing accepts any fraction, an offset, {@code Z}, or none (read as UTC).
 */
public final class CeleryTime {
    private CeleryTime() {
    }

    private static final DateTimeFormatter WITH_OFFSET = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx");
    private static final DateTimeFormatter NAIVE = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");

    public static String format(Instant t) {
        return WITH_OFFSET.format(t.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC));
    }

    public static String formatNaive(Instant t) {
        LocalDateTime d = LocalDateTime.ofEpochSecond(t.getEpochSecond(), 0, ZoneOffset.UTC);
        if (d.getYear() < 1000 || d.getYear() > 9999) {
            return NAIVE.format(t.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC));
        }
        // what NAIVE gives, written by hand: this runs for every stored result
        StringBuilder b = new StringBuilder(26).append(d.getYear()).append('-');
        two(b, d.getMonthValue()).append('-');
        two(two(two(two(b, d.getDayOfMonth()).append('T'), d.getHour()).append(':'), d.getMinute()).append(':'), d.getSecond()).append('.');
        String micros = Integer.toString(t.getNano() / 1000);
        for (int i = micros.length(); i < 6; i++) {
            b.append('0');
        }
        return b.append(micros).toString();
    }

    private static StringBuilder two(StringBuilder b, int v) {
        return b.append((char) ('0' + v / 10)).append((char) ('0' + v % 10));
    }

    /** Parses a Celery time; throws {@link IllegalArgumentException} naming the text when it is not one. */
    public static Instant parse(String text) {
        String s = text.trim().replace(' ', 'T');
        try {
            if (s.endsWith("Z") || s.matches(".*[+-]\\d\\d:?\\d\\d$")) {
                return OffsetDateTime.parse(normaliseOffset(s), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
            }
            return LocalDateTime.parse(s, DateTimeFormatter.ISO_LOCAL_DATE_TIME).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' is not an ISO-8601 time");
        }
    }

    private static String normaliseOffset(String s) {
        // Python can write +0000 (strftime %z); java.time wants +00:00.
        if (s.matches(".*[+-]\\d{4}$")) {
            return s.substring(0, s.length() - 2) + ":" + s.substring(s.length() - 2);
        }
        return s;
    }
}
