package dev.portico.e2e;

/** One file of a hosted app: a path relative to the app directory and its text. */
public record AppFile(String path, String content) {

    public static AppFile of(String path, String content) {
        return new AppFile(path, content);
    }
}
