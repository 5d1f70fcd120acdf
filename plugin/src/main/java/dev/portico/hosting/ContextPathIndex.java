package dev.portico.hosting;

import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.function.Function;

/**
 * An immutable map from context paths to what is hosted there, for the longest-prefix lookup of
 * a request URI. It works as Tomcat's own {@code Mapper} maps a URI to a Context: the paths are
 * kept sorted, the URI is first cut after as many segments as the deepest path has, and each
 * shorter prefix (at a {@code /}) is looked up by binary search until one is hosted, ending with
 * ROOT (""). A lookup costs (segments of the deepest path + 1) binary searches, whatever the number of
 * apps, and allocates nothing.
 *
 * <p>A path matches a URI that equals it or continues it with {@code /}; ROOT matches every URI.
 */
public final class ContextPathIndex<T> {

    private static final ContextPathIndex<?> EMPTY = new ContextPathIndex<>(new String[0], new Object[0], 0);

    private final String[] paths;
    private final Object[] values;
    /** Slashes in the deepest path: a URI is never looked up beyond that many segments. */
    private final int depth;

    private ContextPathIndex(String[] paths, Object[] values, int depth) {
        this.paths = paths;
        this.values = values;
        this.depth = depth;
    }

    @SuppressWarnings("unchecked")
    public static <T> ContextPathIndex<T> empty() {
        return (ContextPathIndex<T>) EMPTY;
    }

    /** @throws IllegalArgumentException when two entries have the same path */
    public static <T> ContextPathIndex<T> of(Collection<T> entries, Function<T, String> path) {
        Object[] sorted = entries.toArray();
        @SuppressWarnings("unchecked")
        Comparator<Object> byPath = Comparator.comparing(entry -> path.apply((T) entry));
        Arrays.sort(sorted, byPath);
        String[] paths = new String[sorted.length];
        int depth = 0;
        for (int i = 0; i < sorted.length; i++) {
            @SuppressWarnings("unchecked")
            String p = path.apply((T) sorted[i]);
            if (i > 0 && p.equals(paths[i - 1])) {
                throw new IllegalArgumentException("two entries for the context path [" + p + "]");
            }
            paths[i] = p;
            depth = Math.max(depth, slashes(p));
        }
        return new ContextPathIndex<>(paths, sorted, depth);
    }

    public int size() {
        return paths.length;
    }

    /** What is hosted at the longest path that is a prefix of the (decoded) URI, or null. */
    @SuppressWarnings("unchecked")
    public T match(String uri) {
        if (paths.length == 0) {
            return null;
        }
        int end = endOfSegment(uri, depth + 1);
        while (true) {
            int found = find(uri, end);
            if (found >= 0) {
                return (T) values[found];
            }
            if (end == 0) {
                return null;
            }
            end = uri.lastIndexOf('/', end - 1);
            if (end < 0) {
                end = 0; // only ROOT is left to try
            }
        }
    }

    /** The index of the path equal to {@code uri[0, end)}, or -1. */
    private int find(String uri, int end) {
        int low = 0;
        int high = paths.length - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int order = compare(paths[mid], uri, end);
            if (order < 0) {
                low = mid + 1;
            } else if (order > 0) {
                high = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** {@code path.compareTo(uri.substring(0, end))}, without the substring. */
    private static int compare(String path, String uri, int end) {
        int common = Math.min(path.length(), end);
        for (int i = 0; i < common; i++) {
            int order = path.charAt(i) - uri.charAt(i);
            if (order != 0) {
                return order;
            }
        }
        return path.length() - end;
    }

    /** Where the n-th {@code /} of the URI is (the end of its first n-1 segments), or its length. */
    private static int endOfSegment(String uri, int n) {
        int seen = 0;
        for (int i = 0; i < uri.length(); i++) {
            if (uri.charAt(i) == '/' && ++seen == n) {
                return i;
            }
        }
        return uri.length();
    }

    private static int slashes(String path) {
        int count = 0;
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '/') {
                count++;
            }
        }
        return count;
    }
}
