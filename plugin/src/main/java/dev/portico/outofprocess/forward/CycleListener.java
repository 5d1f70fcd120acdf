package dev.portico.outofprocess.forward;

import java.io.IOException;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;

/** Tomcat's word on an exchange's async cycle: how it ended. */
final class CycleListener implements AsyncListener {

    private final ClientGate gate;

    CycleListener(ClientGate gate) {
        this.gate = gate;
    }

    @Override
    public void onComplete(AsyncEvent event) {
        gate.end(null);
    }

    @Override
    public void onError(AsyncEvent event) {
        gate.end(event.getThrowable() == null ? new IOException("the client's exchange failed") : event.getThrowable());
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        gate.timedOutByContainer();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // a dispatch ends the cycle's listeners; the servlet joins the new cycle itself (started)
    }
}
