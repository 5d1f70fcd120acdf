#!/usr/bin/env node
// Portico test backend for forwarding edge cases (plugin's ForwardingEdgeCasesTest). Built-in
// modules only. Behaviour by path, and by whether this is the app's first process (MARKER: a
// file the first process creates; later processes find it):
//   .../die     the first process exits(7) without answering; later ones answer
//   .../big     the first process exits(7); later ones send ?bytes=N (default 8 MiB), back-pressured
//   .../reject  413 with Connection: close, without reading the request body
//   .../stream-echo  the request body streamed back as it arrives
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
  http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const p = u.pathname;
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
