package dev.portico.hosting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.portico.config.PorticoXml;
import dev.portico.config.ValveSettings;
import dev.portico.testsupport.TestFiles;

/** The catalog on its own, with apps that do nothing: what request threads read of it. */
class AppCatalogTest {

    /** An app that is only there: the catalog's bookkeeping is what is tested. */
    private static final class InertApp implements HostedApp {
        @Override
        public boolean handle(Request request, Response response) {
            return true;
        }

        @Override
        public CompletableFuture<Void> stop(boolean permanently) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public String describe() {
            return "inert";
        }

        @Override
        public AppStatus status() {
            return new AppStatus("inProcess", "idle", describe(), 0, 0, 0, 0, null, null, null, List.of(), null);
        }
    }

    /**
     * An app the status page, JMX or getHostedApps lists is one a request finds: the catalog's
     * lists are replaced at once, never one after the other (a test that saw an app listed once
     * sent a request to it and met Tomcat's 404).
     */
    @Test
    void anAppListedIsAnAppARequestFinds(@TempDir Path appBase) throws Exception {
        AppCatalog catalog = new AppCatalog(appBase, new PorticoXml(new ValveSettings((name, value, reason) -> reason)),
                HostingEvents.NONE, (source, config) -> new InertApp(), true, AppCatalog.SlotListener.NONE);
        AtomicBoolean done = new AtomicBoolean();
        List<String> unmatched = new ArrayList<>();
        Thread requests = new Thread(() -> {
            while (!done.get() && unmatched.size() < 5) {
                for (AppCatalog.Slot slot : catalog.slots()) {
                    String path = slot.source().contextPath() + "/";
                    if (catalog.match(path) != slot) {
                        unmatched.add(path);
                    }
                }
            }
        }, "requests");
        requests.start();
        try {
            // apps only come (one that went would rightly be listed, then not found)
            for (int round = 0; round < 200; round++) {
                TestFiles.writeAtomically(appBase.resolve("app" + round).resolve("portico.xml"), "<portico/>\n");
                catalog.scan();
            }
        } finally {
            done.set(true);
            requests.join();
            catalog.stopAll().join();
        }
        assertEquals(List.of(), unmatched, "apps listed that a request at their path did not find");
    }
}
