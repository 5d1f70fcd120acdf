#!/usr/bin/env python3
"""Opens N idle WebSocket connections to one URL and holds them (Python 3 stdlib only).

    scale_tunnels.py HOST PORT PATH COUNT

Handshakes run a few hundred at a time with non-blocking sockets (selectors). Once COUNT are
open (every one answered 101), a text frame is echoed on a sample of them to prove the tunnels
carry data, then "open <n> failed <m>" is printed and the script waits for a line on stdin
(or its end) before closing every connection. Bounded: gives up after 180 s of handshakes.
"""
import base64, os, selectors, socket, sys, time

def main():
    host, port, path, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    sel = selectors.DefaultSelector()
    open_socks, failed, pending = [], 0, {}
    started, deadline, next_index = time.time(), time.time() + 180, 0
    in_flight = 256
    while (len(open_socks) + failed < count) and time.time() < deadline:
        while next_index < count and len(pending) < in_flight:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect((host, port))
            except BlockingIOError:
                pass
            except OSError:
                failed += 1; s.close(); next_index += 1; continue
            key = base64.b64encode(os.urandom(16)).decode()
            req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
            pending[s] = [req, b""]
            sel.register(s, selectors.EVENT_WRITE)
            next_index += 1
        for key, events in sel.select(timeout=1.0):
            s = key.fileobj
            state = pending[s]
            try:
                if events & selectors.EVENT_WRITE and state[0]:
                    sent = s.send(state[0]); state[0] = state[0][sent:]
                    if not state[0]:
                        sel.modify(s, selectors.EVENT_READ)
                    continue
                data = s.recv(4096)
                if not data:
                    raise OSError("closed")
                state[1] += data
                if b"\r\n\r\n" in state[1]:
                    sel.unregister(s); del pending[s]
                    if state[1].startswith(b"HTTP/1.1 101"):
                        open_socks.append(s)
                    else:
                        failed += 1; s.close()
            except OSError:
                sel.unregister(s); del pending[s]; failed += 1; s.close()
    for s in list(pending):
        failed += 1; sel.unregister(s); s.close()
    echoed = 0
    for s in open_socks[:: max(1, len(open_socks) // 20)]:
        s.setblocking(True); s.settimeout(5)
        payload = b"tunnel-check"
        mask = os.urandom(4)
        frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        try:
            s.sendall(frame)
            got = b""
            while len(got) < 2 + len(payload):
                chunk = s.recv(64)
                if not chunk:
                    break
                got += chunk
            if got[2:2 + len(payload)] == payload:
                echoed += 1
        except OSError:
            pass
    print(f"open {len(open_socks)} failed {failed} echoed {echoed} seconds {time.time() - started:.1f}", flush=True)
    sys.stdin.readline()
    for s in open_socks:
        s.close()

if __name__ == "__main__":
    main()
