package dev.portico.hosting;

import java.nio.file.Path;

/**
 * Where a hosted app comes from in the valve's appBase.
 *
 * @param name the file or directory name without {@code .war}; it gives the context path as in
 *             Tomcat's webapps ({@code ROOT} → "", {@code a#b} → {@code /a/b})
 * @param location the app directory, or the WAR file when the WAR is not unpacked
 * @param directory the directory relative paths resolve against and app_offline.htm is looked
 *                  for in (for a packed WAR: {@code appBase/<name>}, which need not exist)
 * @param war true for a web application (WAR file, or directory with WEB-INF)
 * @param configFile where portico.xml is (a path inside the archive for a packed WAR)
 */
public record AppSource(String name, String contextPath, Path location, Path directory, boolean war, Path configFile) {

    /** The context path as operators read it: "/" for the root app. */
    public String displayPath() {
        return contextPath.isEmpty() ? "/" : contextPath;
    }

    public boolean packedWar() {
        return war && !location.equals(directory);
    }
}
