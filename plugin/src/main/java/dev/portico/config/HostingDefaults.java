package dev.portico.config;

import java.time.Duration;

/**
 * The values an app gets for every attribute its {@code portico.xml} leaves out. Defaults are
 * ANCM's; the valve's attributes of the same names override them for all apps of a Host.
 */
public final class HostingDefaults {

    /** Upper bound of stdoutLogMaxFiles, in portico.xml and on the valve alike. */
    public static final int MAX_STDOUT_LOG_FILES = 1000;

    private Duration startupTimeLimit = Duration.ofSeconds(120);
    private Duration shutdownTimeLimit = Duration.ofSeconds(10);
    private int rapidFailsPerMinute = 10;
    private Duration requestTimeout = Duration.ofMinutes(2);
    private boolean stdoutLogEnabled = false;
    private String stdoutLogFile = "logs/stdout";
    private long stdoutLogMaxSize = 0;
    private int stdoutLogMaxFiles = 10;
    private boolean disableStartUpErrorPage = false;
    private boolean forwardPrincipal = false;
    private boolean preloadEnabled = false;
    private boolean preserveHostHeader = true;
    private BackendTransport transport = BackendTransport.TCP;

    public Duration startupTimeLimit() {
        return startupTimeLimit;
    }

    public void setStartupTimeLimit(Duration startupTimeLimit) {
        this.startupTimeLimit = startupTimeLimit;
    }

    public Duration shutdownTimeLimit() {
        return shutdownTimeLimit;
    }

    public void setShutdownTimeLimit(Duration shutdownTimeLimit) {
        this.shutdownTimeLimit = shutdownTimeLimit;
    }

    public int rapidFailsPerMinute() {
        return rapidFailsPerMinute;
    }

    public void setRapidFailsPerMinute(int rapidFailsPerMinute) {
        this.rapidFailsPerMinute = rapidFailsPerMinute;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    public void setRequestTimeout(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
    }

    public boolean stdoutLogEnabled() {
        return stdoutLogEnabled;
    }

    public void setStdoutLogEnabled(boolean stdoutLogEnabled) {
        this.stdoutLogEnabled = stdoutLogEnabled;
    }

    public String stdoutLogFile() {
        return stdoutLogFile;
    }

    public void setStdoutLogFile(String stdoutLogFile) {
        this.stdoutLogFile = stdoutLogFile;
    }

    public long stdoutLogMaxSize() {
        return stdoutLogMaxSize;
    }

    public void setStdoutLogMaxSize(long bytes) {
        this.stdoutLogMaxSize = bytes;
    }

    public int stdoutLogMaxFiles() {
        return stdoutLogMaxFiles;
    }

    public void setStdoutLogMaxFiles(int files) {
        this.stdoutLogMaxFiles = files;
    }

    public boolean disableStartUpErrorPage() {
        return disableStartUpErrorPage;
    }

    public void setDisableStartUpErrorPage(boolean disableStartUpErrorPage) {
        this.disableStartUpErrorPage = disableStartUpErrorPage;
    }

    public boolean forwardPrincipal() {
        return forwardPrincipal;
    }

    public void setForwardPrincipal(boolean forwardPrincipal) {
        this.forwardPrincipal = forwardPrincipal;
    }

    public boolean preloadEnabled() {
        return preloadEnabled;
    }

    public void setPreloadEnabled(boolean preloadEnabled) {
        this.preloadEnabled = preloadEnabled;
    }

    public boolean preserveHostHeader() {
        return preserveHostHeader;
    }

    public void setPreserveHostHeader(boolean preserveHostHeader) {
        this.preserveHostHeader = preserveHostHeader;
    }

    public BackendTransport transport() {
        return transport;
    }

    public void setTransport(BackendTransport transport) {
        this.transport = transport;
    }
}
