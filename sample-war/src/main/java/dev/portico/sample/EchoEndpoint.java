package dev.portico.sample;

import jakarta.websocket.OnMessage;
import jakarta.websocket.server.ServerEndpoint;

/** WebSocket echo at {@code /ws/echo}: shows that upgrades reach the app in both hosting models. */
@ServerEndpoint("/ws/echo")
public class EchoEndpoint {

    @OnMessage
    public String echo(String message) {
        return "echo: " + message;
    }
}
