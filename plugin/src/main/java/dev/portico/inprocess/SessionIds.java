package dev.portico.inprocess;

import jakarta.servlet.SessionTrackingMode;

import org.apache.catalina.connector.CoyoteAdapter;
import org.apache.catalina.connector.Request;
import org.apache.catalina.util.SessionConfig;

/**
 * Re-reads the requested session id for the internal Context a request has just been remapped
 * to. CoyoteAdapter read it before the valve ran, with the settings of whatever front Context
 * the URI mapped to (often none): the cookie name, the URL parameter name and the tracking
 * modes may differ in the hosted app. This does what CoyoteAdapter.postParseRequest does once a
 * Context is known, by reusing its own (protected) methods.
 */
final class SessionIds extends CoyoteAdapter {

    static final SessionIds INSTANCE = new SessionIds();

    private SessionIds() {
        super(null); // the methods used here only look at the request
    }

    void reparse(Request request) {
        request.recycleSessionInfo();
        if (request.getServletContext().getEffectiveSessionTrackingModes().contains(SessionTrackingMode.URL)) {
            String sessionId = request.getPathParameter(SessionConfig.getSessionUriParamName(request.getContext()));
            if (sessionId != null) {
                request.setRequestedSessionId(sessionId);
                request.setRequestedSessionURL(true);
            }
        }
        parseSessionCookiesId(request);
        parseSessionSslId(request);
    }
}
