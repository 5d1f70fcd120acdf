#!/usr/bin/env node
// Portico test backend for forwarding edge cases (plugin's ForwardingEdgeCasesTest). Built-in
// modules only. Behaviour by path, and by whether this is the app's first process (MARKER: a
// file the first process creates; later processes find it):
//   .../die     the first process exits(7) without answering; later ones answer
//   .../big     the first process exits(7); later ones send ?bytes=N (default 8 MiB), back-pressured
//   .../reject  413 with Connection: close, without reading the request body
//   .../stream-echo  the request body streamed back as it arrives
//   .../hints, .../processing, .../continue   a 103, 102 or unsolicited 100, then 200 "final answer"
//   .../len?n=N  N bytes of 'a' with Content-Length N (none for HEAD)
//   .../drop     the connection destroyed without an answer (a live process)
//   .../malformed  an answer with a malformed Content-Length
//   .../hits     JSON: how many requests each path received
//   anything else   "ok <bytes of the body> <path>"
// MODE=failRestart: every process after the first exits(1) before listening.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const marker = process.env.MARKER;
const mode = process.env.MODE || '';
const second = !!marker && fs.existsSync(marker);
if (marker && !second) fs.writeFileSync(marker, String(process.pid));
if (second && mode === 'failRestart') {
  setTimeout(() => { console.error('failing restart on purpose'); process.exit(1); }, 300);
} else {
  const hits = {};
  http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const p = u.pathname;
    hits[p] = (hits[p] || 0) + 1;
    if (p.endsWith('/hits')) {
      const b = Buffer.from(JSON.stringify(hits));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': b.length });
      res.end(b);
      return;
    }
    const finalAnswer = () => setTimeout(() => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 12 });
      res.end('final answer');
    }, 50);
    if (p.endsWith('/hints')) {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      finalAnswer();
      return;
    }
    if (p.endsWith('/processing')) {
      res.writeProcessing();
      finalAnswer();
      return;
    }
    if (p.endsWith('/continue')) {
      res.writeContinue();
      finalAnswer();
      return;
    }
    if (p.endsWith('/len')) {
      const n = Number(u.searchParams.get('n'));
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
      res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(n, 97));
      return;
    }
    if (p.endsWith('/drop')) {
      req.socket.destroy();
      return;
    }
    if (p.endsWith('/malformed')) {
      req.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\nhello');
      return;
    }
    if (p.endsWith('/die')) {
      if (!second) process.exit(7);
    }
    if (p.endsWith('/big')) {
      if (!second) process.exit(7);
      const n = Number(u.searchParams.get('bytes') || (8 << 20));
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
      const chunk = Buffer.alloc(65536, 97);
      let sent = 0;
      const pump = () => {
        while (sent < n) {
          const c = chunk.subarray(0, Math.min(chunk.length, n - sent));
          sent += c.length;
          if (!res.write(c)) { res.once('drain', pump); return; }
        }
        res.end();
      };
      pump();
      return;
    }
    if (p.endsWith('/reject')) {
      res.writeHead(413, { 'Content-Type': 'text/plain', 'Content-Length': 9, 'Connection': 'close' });
      res.end('too large');
      return;
    }
    if (p.endsWith('/stream-echo')) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    let total = 0;
    req.on('data', (c) => { total += c.length; });
    req.on('end', () => { const b = Buffer.from('ok ' + total + ' ' + p); res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': b.length }); res.end(b); });
  }).listen(Number(process.env.PORTICO_PORT), '127.0.0.1');
}
