package dev.portico.config;

import java.util.Locale;

/**
 * A size as operators write it: whole bytes, or a number with {@code K}, {@code M} or {@code G}
 * (powers of 1024; {@code KB}, {@code MB}, {@code GB} mean the same). {@code 0} means no limit.
 */
public final class ByteSize {

    /** The smallest size limit (below it a log would rotate on nearly every line). */
    public static final long MIN = 4096;
    public static final long MAX = 1L << 40;

    private ByteSize() {
    }

    /** @throws IllegalArgumentException saying what is accepted */
    public static long parse(String text) {
        String value = text.trim().toUpperCase(Locale.ROOT);
        if (value.endsWith("B") && value.length() > 1 && !Character.isDigit(value.charAt(value.length() - 2))) {
            value = value.substring(0, value.length() - 1);
        }
        long unit = 1;
        if (!value.isEmpty()) {
            switch (value.charAt(value.length() - 1)) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                default -> unit = 1;
            }
        }
        String digits = unit == 1 ? value : value.substring(0, value.length() - 1).trim();
        if (digits.matches("\\d{1,13}")) {
            long bytes = Long.parseLong(digits) * unit;
            if (bytes == 0 || (bytes >= MIN && bytes <= MAX)) {
                return bytes;
            }
        }
        throw new IllegalArgumentException("must be 0 (no rotation) or a size from 4K to 1024G: whole bytes, or a"
                + " number with K, M or G (e.g. 10M)");
    }
}
