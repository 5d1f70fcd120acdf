package dev.portico.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A server key pair for 127.0.0.1 and a client key pair, each self-signed, made with the JDK's
 * keytool in a directory of the test; the server trusts the client's certificate, the client the
 * server's. PKCS12 stores, password {@value #PASSWORD}.
 */
final class TestCertificates {

    static final String PASSWORD = "changeit";
    static final String CLIENT_SUBJECT = "CN=portico-client,O=Portico Tests";

    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    static TestCertificates create(Path dir) {
        TestCertificates certificates = new TestCertificates(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        certificates.keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-keystore", "server.p12");
        certificates.keytool("-genkeypair", "-alias", "client", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", CLIENT_SUBJECT, "-validity", "2", "-keystore", "client.p12");
        certificates.keytool("-exportcert", "-alias", "server", "-keystore", "server.p12", "-file", "server.cer");
        certificates.keytool("-exportcert", "-alias", "client", "-keystore", "client.p12", "-file", "client.cer");
        certificates.keytool("-importcert", "-noprompt", "-alias", "client", "-file", "client.cer", "-keystore", "server-trust.p12");
        certificates.keytool("-importcert", "-noprompt", "-alias", "server", "-file", "server.cer", "-keystore", "client-trust.p12");
        return certificates;
    }

    /** A TLS connector on 127.0.0.1 that asks for a client certificate but also serves clients without one. */
    String optionalClientAuthConnector(int port) {
        return """
                    <Connector address="127.0.0.1" port="%d" protocol="HTTP/1.1" SSLEnabled="true" scheme="https" secure="true">
                      <SSLHostConfig certificateVerification="optional" truststoreFile="%s" truststorePassword="%s" truststoreType="PKCS12">
                        <Certificate certificateKeystoreFile="%s" certificateKeystorePassword="%s" certificateKeystoreType="PKCS12"/>
                      </SSLHostConfig>
                    </Connector>""".formatted(port, Xml.escape(dir.resolve("server-trust.p12").toString()), PASSWORD,
                Xml.escape(dir.resolve("server.p12").toString()), PASSWORD);
    }

    /** A client context that trusts the server and, with {@code withCertificate}, presents the client certificate. */
    SSLContext clientContext(boolean withCertificate) {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(load("client-trust.p12"));
            KeyManagerFactory keys = null;
            if (withCertificate) {
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(load("client.p12"), PASSWORD.toCharArray());
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build the client's TLS context", e);
        }
    }

    /** The client's certificate, DER. */
    byte[] clientCertificate() {
        try {
            return ((X509Certificate) load("client.p12").getCertificate("client")).getEncoded();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private KeyStore load(String name) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve(name))) {
            store.load(in, PASSWORD.toCharArray());
        }
        return store;
    }

    private void keytool(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD));
        try {
            Process keytool = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String output = new String(keytool.getInputStream().readAllBytes());
            if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
                keytool.destroyForcibly();
                throw new IllegalStateException("keytool " + String.join(" ", args) + " failed:\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
