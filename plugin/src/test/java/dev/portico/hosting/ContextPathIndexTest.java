package dev.portico.hosting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The longest-prefix lookup of request URIs among many context paths answers exactly what a scan
 * of every path, longest first, answers (the rule Portico always had): a path matches a URI that
 * equals it or goes on with {@code /}, ROOT matches everything, the longest matching path wins.
 */
class ContextPathIndexTest {

    @Test
    void longestPrefixAtSegmentBoundariesAndRoot() {
        ContextPathIndex<String> index = ContextPathIndex.of(List.of("", "/a", "/a/b", "/ab", "/shop", "/x/y/z"), p -> p);
        assertEquals("/a", index.match("/a"));
        assertEquals("/a", index.match("/a/"));
        assertEquals("/a", index.match("/a/c/d"));
        assertEquals("/a/b", index.match("/a/b"));
        assertEquals("/a/b", index.match("/a/b/c/d/e/f"));
        assertEquals("/a", index.match("/a/bc"));
        assertEquals("/ab", index.match("/ab/c"));
        assertEquals("", index.match("/abc"));
        assertEquals("", index.match("/shopping"));
        assertEquals("/shop", index.match("/shop/cart"));
        assertEquals("", index.match("/x/y"));
        assertEquals("/x/y/z", index.match("/x/y/z/w"));
        assertEquals("", index.match("/"));
        assertEquals("", index.match(""));
        assertEquals("", index.match("*"));
    }

    @Test
    void withoutRootAnUnhostedUriMatchesNothing() {
        ContextPathIndex<String> index = ContextPathIndex.of(List.of("/a", "/b/c"), p -> p);
        assertNull(index.match("/"));
        assertNull(index.match("/b"));
        assertNull(index.match("/b/cd"));
        assertNull(index.match("/ax"));
        assertEquals("/b/c", index.match("/b/c/"));
        assertNull(ContextPathIndex.<String>empty().match("/a"));
    }

    @Test
    void aPathEndingInASlashMatchesOnlyWhatStartsWithIt() {
        // apps/a#.war is served at "/a/", as in Tomcat's webapps
        ContextPathIndex<String> index = ContextPathIndex.of(List.of("/a/"), p -> p);
        assertEquals("/a/", index.match("/a/"));
        assertEquals("/a/", index.match("/a//x"));
        assertNull(index.match("/a"));
        assertNull(index.match("/a/x"));
    }

    @Test
    void twoEntriesOfOnePathAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ContextPathIndex.of(List.of("/a", "/b", "/a"), p -> p));
    }

    /** Thousands of random URIs against 2,000 random nested paths, ROOT on and off: the same answers as the scan. */
    @Test
    void answersWhatAScanOfEveryPathAnswers() {
        Random random = new Random(11);
        String[] words = { "a", "b", "ab", "shop", "api", "v1", "x-y", "é", "%2F", "" };
        List<String> paths = new ArrayList<>();
        while (paths.size() < 2_000) {
            String path = randomPath(random, words, 1 + random.nextInt(4));
            if (!path.isEmpty() && !paths.contains(path)) {
                paths.add(path);
            }
        }
        for (boolean root : new boolean[] { false, true }) {
            List<String> hosted = new ArrayList<>(paths);
            if (root) {
                hosted.add("");
            }
            ContextPathIndex<String> index = ContextPathIndex.of(hosted, p -> p);
            List<String> longestFirst = new ArrayList<>(hosted);
            longestFirst.sort(Comparator.comparingInt(String::length).reversed());
            for (int i = 0; i < 20_000; i++) {
                String uri = i % 3 == 0 ? paths.get(random.nextInt(paths.size())) + randomPath(random, words, random.nextInt(3))
                        : randomPath(random, words, random.nextInt(7));
                assertEquals(scan(longestFirst, uri), index.match(uri), uri);
            }
        }
    }

    private static String randomPath(Random random, String[] words, int segments) {
        StringBuilder path = new StringBuilder();
        for (int i = 0; i < segments; i++) {
            path.append('/').append(words[random.nextInt(words.length)]);
        }
        return path.toString();
    }

    private static String scan(List<String> longestFirst, String uri) {
        for (String path : longestFirst) {
            if (path.isEmpty() || uri.equals(path)
                    || (uri.startsWith(path) && uri.length() > path.length() && uri.charAt(path.length()) == '/')) {
                return path;
            }
        }
        return null;
    }
}
