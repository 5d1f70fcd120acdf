package dev.portico.config;

import java.time.Duration;

/**
 * The values an app gets for every attribute its {@code portico.xml} leaves out. Defaults are
 * ANCM's; the valve's attributes of the same names override them for all apps of a Host.
 */
public final class HostingDefaults {

    private Duration startupTimeLimit = Duration.ofSeconds(120);
    private Duration shutdownTimeLimit = Duration.ofSeconds(10);
    private int rapidFailsPerMinute = 10;
    private Duration requestTimeout = Duration.ofMinutes(2);
    private boolean stdoutLogEnabled = false;
    private String stdoutLogFile = "logs/stdout";
    private boolean disableStartUpErrorPage = false;
    private boolean forwardPrincipal = false;
    private boolean preloadEnabled = false;

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
}
