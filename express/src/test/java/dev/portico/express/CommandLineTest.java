package dev.portico.express;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandLineTest {

    @Test
    void defaultsAndPortForms() throws Exception {
        assertEquals(8080, CommandLine.parse().port());
        assertTrue(CommandLine.parse().apps().isEmpty());
        assertEquals(0, CommandLine.parse("--port", "0").port());
        assertEquals(9090, CommandLine.parse("--port=9090").port());
        assertTrue(CommandLine.parse("--verbose", "--help").help());
        assertEquals(7070, CommandLine.parse("-p", "7070").port());
        assertTrue(CommandLine.parse("-v").verbose());
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("--verbose=yes"));
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("-p=7070"));
    }

    @Test
    void hooksNameAnExistingDirectory(@TempDir Path temp) throws Exception {
        assertEquals(null, CommandLine.parse().hooks());
        assertEquals(temp.toAbsolutePath().normalize(), CommandLine.parse("--hooks", temp.toString()).hooks());
        assertEquals(temp.toAbsolutePath().normalize(), CommandLine.parse("--hooks=" + temp).hooks());
        String missing = assertThrows(CommandLine.UsageException.class,
                () -> CommandLine.parse("--hooks", temp.resolve("none").toString())).getMessage();
        assertTrue(missing.contains("--hooks: no such directory: " + temp.resolve("none")), missing);
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("--hooks"));
    }

    @Test
    void appsGetTheirNameAsContextPath(@TempDir Path temp) throws Exception {
        Path shop = Files.createDirectories(temp.resolve("shop/WEB-INF"));
        Path root = Files.createDirectories(temp.resolve("ROOT"));
        Files.writeString(root.resolve("portico.xml"), "<portico processPath=\"x\"/>");
        Path war = Files.writeString(temp.resolve("blog.war"), "x");
        List<CommandLine.App> apps = CommandLine.parse(shop.getParent().toString(), root.toString(), war.toString()).apps();
        assertEquals(List.of("/shop", "", "/blog"), apps.stream().map(CommandLine.App::contextPath).toList());
        assertEquals(List.of("shop", "ROOT", "blog.war"), apps.stream().map(CommandLine.App::entryName).toList());
        assertEquals(List.of(true, false, true), apps.stream().map(CommandLine.App::war).toList());
    }

    @Test
    void mistakesAreUsageErrors(@TempDir Path temp) throws Exception {
        Path a = Files.createDirectories(temp.resolve("a/app/WEB-INF")).getParent();
        Path b = Files.writeString(Files.createDirectories(temp.resolve("b")).resolve("app.war"), "x");
        String clash = assertThrows(CommandLine.UsageException.class,
                () -> CommandLine.parse(a.toString(), b.toString())).getMessage();
        assertTrue(clash.contains("two apps would be served at /app"), clash);
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("--port", "-1"));
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("--port"));
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("--nope"));
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(temp.resolve("none").toString()));
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(temp.toString()));
        Path text = Files.writeString(temp.resolve("notes.txt"), "x");
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(text.toString()));
    }
}
