#!/usr/bin/env node
// Portico test backend: a small Node.js (20+) HTTP server that follows docs/backend-contract.md.
// Built-in modules only, one file. Used by the end-to-end tests in integration-tests/ and by the
// plugin's own tests.
//
// Environment (set by Portico): PORTICO_PORT, PORTICO_TOKEN, PORTICO_PATH_BASE, PORTICO_PARENT_PID;
// with transport="unix" PORTICO_SOCKET instead of PORTICO_PORT: the server listens on that path.
// Arguments: --port N listens on N instead of PORTICO_PORT (portico.xml's arguments="--port %PORTICO_PORT%").
// /env also reports the port listened on (listeningPort), the port of the connection the request
// came on (clientPort: which pooled connection the front used) and the arguments (argv).
//
// Endpoints (relative to PORTICO_PATH_BASE; requests arrive with the full path):
//   /echo                 any method: JSON {method, path, query, params, headers, rawHeaders,
//                         bodyLength, bodySha256}; the body is hashed as a stream
//   /env?names=A,B        JSON of those env vars plus PORTICO_PORT, PORTICO_PATH_BASE, pid
//   /sse?count=N&intervalMs=M   text/event-stream, "data: i\n\n" for i = 0..N-1, M ms apart;
//                         with &tag=T each event is "data: T i\n\n" and X-Request-Tag: T is set
//   /slow?ms=N            "slow done" after N ms
//   /download?bytes=N     N bytes, byte i = i % 251, Content-Length set, 64 KiB chunks
//   /mirror?tag=T         any method: the request body sent back as it came (buffered, Content-Length
//                         set) with X-Body-Length, X-Body-Sha256, X-Request-Tag: T
//   /stats                JSON {pid, upgradesOpen}: upgraded connections still open here
//   /crash                200 "crashing", then exit(3) once the response is flushed
//   /hang                 never answers
//   /drop                 destroys the socket without answering
//   /healthz              200 "ok"; 503 for the first BACKEND_READY_AFTER_MS ms after listening, and
//                         for ever after a request to /sick
//   /sick                 200 "sick": from now on /healthz answers 503
//   /status?code=N        an empty answer with status N
//   /grow?mb=N            allocates N MiB (touched, so it is resident) and keeps it; JSON {pid, heldMb}
//   anything else         200 "hello from node " + full path
//   upgrade /ws-echo      WebSocket echo (text and binary frames, close)
//   upgrade /raw-echo     "Upgrade: echo": after the 101, every byte is sent back
//   upgrade /refuse-bad-length, /refuse-bad-chunk   a 403 whose Content-Length or chunk size is malformed
//   POST /.portico/shutdown (token + X-Portico-Event: shutdown) -> 202, close, exit 0
//
// Behaviour switches (environment):
//   BACKEND_START_DELAY_MS=N     wait N ms before listening
//   BACKEND_FAIL_START=1         print "failing on purpose" to stderr, exit 1 before listening
//   BACKEND_FAIL_WHILE_FILE=path print "failing on purpose" to stderr, exit 1 while path exists
//   BACKEND_FAIL_ONCE_FILE=path  if path is missing: create it, print "EADDRINUSE simulated"
//                                to stderr and exit 98; otherwise start normally
//   BACKEND_IGNORE_SIGTERM=1     ignore SIGTERM and the shutdown request
//   BACKEND_SPAWN_CHILD=1        spawn a grandchild `sleep 300`, print "grandchild pid N"
//   BACKEND_IGNORE_PARENT=1      do not exit when PORTICO_PARENT_PID is gone (orphan tests)
//   BACKEND_QUIET=1              print nothing at all (not even "listening on")
//   BACKEND_READY_AFTER_MS=N     /healthz answers 503 until N ms after the server listens
//   BACKEND_RECORD_FILE=path     append one JSON line per request received, before handling it:
//                                {kind: request|upgrade|clientError, method, url, httpVersion,
//                                rawHeaders, bodyLength (requests, once the body is read), error}
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { spawn } = require('node:child_process');

const env = process.env;
const PORT_ARGUMENT = process.argv.indexOf('--port');
const PORT = Number(PORT_ARGUMENT > 0 ? process.argv[PORT_ARGUMENT + 1] : env.PORTICO_PORT || 0);
const SOCKET = env.PORTICO_SOCKET;
const TOKEN = env.PORTICO_TOKEN;
const PATH_BASE = env.PORTICO_PATH_BASE || '';
const IGNORE_SIGTERM = env.BACKEND_IGNORE_SIGTERM === '1';
const QUIET = env.BACKEND_QUIET === '1';
const RECORD_FILE = env.BACKEND_RECORD_FILE;
const CHUNK_SIZE = 64 * 1024;
const PATTERN_MODULUS = 251;

function log(message) {
  if (!QUIET) {
    console.log(`[node ${process.pid}] ${message}`);
  }
}

/** One JSON line in BACKEND_RECORD_FILE, written before the request is answered. */
function record(entry) {
  if (RECORD_FILE) {
    fs.appendFileSync(RECORD_FILE, JSON.stringify({ pid: process.pid, ...entry }) + '\n');
  }
}

function recordRequest(kind, req, extra = {}) {
  record({
    kind,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    rawHeaders: lowerCasePairs(req.rawHeaders),
    ...extra,
  });
}

let upgradesOpen = 0;

function fail(message, code) {
  console.error(message);
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------
// Start-up switches

function applyStartupSwitches() {
  if (env.BACKEND_FAIL_WHILE_FILE && fs.existsSync(env.BACKEND_FAIL_WHILE_FILE)) {
    fail(`failing on purpose while ${env.BACKEND_FAIL_WHILE_FILE} exists`, 1);
  }
  if (env.BACKEND_FAIL_START === '1') {
    fail('failing on purpose', 1);
  }
  const failOnceFile = env.BACKEND_FAIL_ONCE_FILE;
  if (failOnceFile && !fs.existsSync(failOnceFile)) {
    fs.writeFileSync(failOnceFile, `failed once at ${new Date().toISOString()}\n`);
    fail('EADDRINUSE simulated', 98);
  }
  if (env.BACKEND_SPAWN_CHILD === '1') {
    const grandchild = spawn('sleep', ['300'], { stdio: 'ignore' });
    console.log(`grandchild pid ${grandchild.pid}`);
  }
}

function installSignalHandlers(server) {
  process.on('SIGTERM', () => {
    if (IGNORE_SIGTERM) {
      log('SIGTERM received and ignored');
      return;
    }
    log('SIGTERM received, exiting');
    server.close();
    process.exit(0);
  });
}

function watchParent() {
  const parentPid = Number(env.PORTICO_PARENT_PID || 0);
  if (!parentPid || env.BACKEND_IGNORE_PARENT === '1') {
    return;
  }
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch (e) {
      if (e.code === 'ESRCH') {
        log(`parent ${parentPid} is gone, exiting`);
        process.exit(0);
      }
    }
  }, 1000).unref();
}

// ---------------------------------------------------------------------------------------------
// Helpers

function sendText(res, status, text, contentType = 'text/plain; charset=utf-8') {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length });
  res.end(body);
}

function sendJson(res, status, value) {
  sendText(res, status, JSON.stringify(value), 'application/json');
}

function intParam(url, name, fallback) {
  const raw = url.searchParams.get(name);
  const value = raw === null ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;
}

/** The request path relative to PORTICO_PATH_BASE, or null when it lies outside the base. */
function relativePath(pathname) {
  if (!PATH_BASE) {
    return pathname;
  }
  if (pathname === PATH_BASE) {
    return '/';
  }
  if (pathname.startsWith(PATH_BASE + '/')) {
    return pathname.slice(PATH_BASE.length);
  }
  return null;
}

function lowerCasePairs(rawHeaders) {
  const pairs = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    pairs.push([rawHeaders[i].toLowerCase(), rawHeaders[i + 1]]);
  }
  return pairs;
}

// A buffer long enough that any 64 KiB window starting at offset (i % 251) is the pattern.
const PATTERN = (() => {
  const buffer = Buffer.alloc(CHUNK_SIZE + PATTERN_MODULUS);
  for (let i = 0; i < buffer.length; i++) {
    buffer[i] = i % PATTERN_MODULUS;
  }
  return buffer;
})();

// ---------------------------------------------------------------------------------------------
// Handlers

function echo(req, res, url) {
  const hash = crypto.createHash('sha256');
  let bodyLength = 0;
  req.on('data', (chunk) => {
    bodyLength += chunk.length;
    hash.update(chunk);
  });
  req.on('end', () => {
    sendJson(res, 200, {
      method: req.method,
      path: url.pathname,
      query: url.search.startsWith('?') ? url.search.slice(1) : url.search,
      params: Object.fromEntries(url.searchParams),
      headers: req.headers,
      rawHeaders: lowerCasePairs(req.rawHeaders),
      bodyLength,
      bodySha256: hash.digest('hex'),
    });
  });
}

function mirror(req, res, url) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': body.length,
      'X-Body-Length': body.length,
      'X-Body-Sha256': crypto.createHash('sha256').update(body).digest('hex'),
      'X-Request-Tag': url.searchParams.get('tag') || '',
    });
    res.end(body);
  });
}

function stats(req, res) {
  req.resume();
  sendJson(res, 200, { pid: process.pid, upgradesOpen });
}

function envVars(req, res, url) {
  const result = {};
  const names = (url.searchParams.get('names') || '').split(',').filter((n) => n.length > 0);
  for (const name of names) {
    result[name] = env[name] === undefined ? null : env[name];
  }
  result.PORTICO_PORT = env.PORTICO_PORT === undefined ? null : env.PORTICO_PORT;
  result.PORTICO_SOCKET = env.PORTICO_SOCKET === undefined ? null : env.PORTICO_SOCKET;
  result.PORTICO_PATH_BASE = env.PORTICO_PATH_BASE === undefined ? null : env.PORTICO_PATH_BASE;
  result.pid = process.pid;
  result.listeningPort = req.socket.localPort;
  result.clientPort = req.socket.remotePort === undefined ? null : req.socket.remotePort;
  result.argv = process.argv.slice(2);
  sendJson(res, 200, result);
}

function serverSentEvents(req, res, url) {
  const count = intParam(url, 'count', 5);
  const intervalMs = intParam(url, 'intervalMs', 300);
  const tag = url.searchParams.get('tag');
  const headers = {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  };
  if (tag !== null) {
    headers['X-Request-Tag'] = tag;
  }
  res.writeHead(200, headers);
  res.flushHeaders();
  let sent = 0;
  const sendNext = () => {
    res.write(tag === null ? `data: ${sent}\n\n` : `data: ${tag} ${sent}\n\n`);
    sent++;
    if (sent >= count) {
      clearInterval(timer);
      res.end();
    }
  };
  const timer = setInterval(sendNext, intervalMs);
  res.on('close', () => clearInterval(timer));
  if (count === 0) {
    clearInterval(timer);
    res.end();
  } else {
    sendNext();
  }
}

function slow(req, res, url) {
  const ms = intParam(url, 'ms', 1000);
  const timer = setTimeout(() => sendText(res, 200, 'slow done'), ms);
  res.on('close', () => clearTimeout(timer));
}

function download(req, res, url) {
  const total = intParam(url, 'bytes', 0);
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total });
  let offset = 0;
  let aborted = false;
  res.on('close', () => { aborted = true; });
  const pump = () => {
    while (!aborted && offset < total) {
      const length = Math.min(CHUNK_SIZE, total - offset);
      const start = offset % PATTERN_MODULUS;
      const chunk = PATTERN.subarray(start, start + length);
      offset += length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!aborted) {
      res.end();
    }
  };
  pump();
}

function crash(req, res) {
  res.setHeader('Connection', 'close');
  const body = Buffer.from('crashing');
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body, () => {
    log('crashing on purpose (exit 3)');
    process.exit(3);
  });
}

let listeningSince = 0;
let sick = false;
const held = [];

function healthz(req, res) {
  const readyAfter = Number(env.BACKEND_READY_AFTER_MS || 0);
  const ready = !sick && listeningSince > 0 && Date.now() - listeningSince >= readyAfter;
  sendText(res, ready ? 200 : 503, ready ? 'ok' : 'not ready');
}

function makeSick(req, res) {
  sick = true;
  log('sick on purpose: /healthz answers 503 from now on');
  sendText(res, 200, 'sick');
}

function statusCode(req, res, url) {
  const code = Number(url.searchParams.get('code') || 200);
  res.writeHead(code, { 'Content-Length': 0 });
  res.end();
}

function grow(req, res, url) {
  const mb = Number(url.searchParams.get('mb') || 1);
  const block = Buffer.alloc(mb * 1024 * 1024, 1);
  held.push(block);
  sendJson(res, 200, { pid: process.pid, heldMb: held.reduce((sum, b) => sum + b.length, 0) / 1048576 });
}

function hang(req, res) {
  log('hanging (no answer will be sent)');
  req.resume();
}

function drop(req) {
  log('dropping the connection');
  req.socket.destroy();
}

function shutdown(req, res, server) {
  if (IGNORE_SIGTERM) {
    log('shutdown request received and ignored');
    sendText(res, 200, 'ignoring shutdown');
    return;
  }
  log('shutdown request received, closing');
  res.setHeader('Connection', 'close');
  sendText(res, 202, 'shutting down');
  res.on('finish', () => {
    server.close(() => {
      log('closed, exiting 0');
      process.exit(0);
    });
    server.closeIdleConnections();
  });
}

const ROUTES = {
  '/echo': echo,
  '/mirror': mirror,
  '/stats': stats,
  '/env': envVars,
  '/sse': serverSentEvents,
  '/slow': slow,
  '/download': download,
  '/crash': crash,
  '/hang': hang,
  '/drop': drop,
  '/healthz': healthz,
  '/sick': makeSick,
  '/status': statusCode,
  '/grow': grow,
};

function handle(server, req, res) {
  const url = new URL(req.url, 'http://backend.invalid');
  log(`${req.method} ${req.url}`);
  if (RECORD_FILE) {
    let bodyLength = 0;
    req.on('data', (chunk) => { bodyLength += chunk.length; });
    req.on('end', () => recordRequest('body', req, { bodyLength }));
    recordRequest('request', req);
  }
  if (TOKEN === undefined || req.headers['x-portico-token'] !== TOKEN) {
    log('rejected: missing or wrong X-Portico-Token');
    req.resume();
    sendText(res, 400, 'missing or wrong X-Portico-Token');
    return;
  }
  const path = relativePath(url.pathname);
  if (path === '/.portico/shutdown' && req.method === 'POST'
      && (req.headers['x-portico-event'] || '').toLowerCase() === 'shutdown') {
    req.resume();
    shutdown(req, res, server);
    return;
  }
  const route = path === null ? undefined : ROUTES[path];
  if (route) {
    route(req, res, url);
    return;
  }
  req.resume();
  sendText(res, 200, 'hello from node ' + url.pathname);
}

// ---------------------------------------------------------------------------------------------
// Upgrades: /ws-echo is a minimal WebSocket echo (RFC 6455, unfragmented frames up to 64 KiB),
// /raw-echo switches to a made-up protocol "echo" that returns every byte it gets.

function upgrade(req, socket, head) {
  log(`UPGRADE ${req.url} to ${req.headers.upgrade}`);
  recordRequest('upgrade', req);
  upgradesOpen++;
  socket.on('close', () => { upgradesOpen--; });
  socket.on('error', (e) => log(`upgraded connection failed: ${e.message}`));
  const url = new URL(req.url, 'http://backend');
  const path = relativePath(url.pathname);
  if (TOKEN === undefined || req.headers['x-portico-token'] !== TOKEN) {
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 33\r\nConnection: close\r\n\r\nmissing or wrong X-Portico-Token\n');
    return;
  }
  if (path === '/raw-echo' && (req.headers.upgrade || '').toLowerCase() === 'echo') {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n'
      + `X-Forwarded-For-Seen: ${req.headers['x-forwarded-for']}\r\nX-Host-Seen: ${req.headers.host}\r\n\r\n`);
    if (head.length > 0) {
      socket.write(head);
    }
    socket.pipe(socket);
    return;
  }
  if (path === '/ws-echo' && (req.headers.upgrade || '').toLowerCase() === 'websocket') {
    const accept = crypto.createHash('sha1')
      .update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      + `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let pending = head;
    // the client half-closed (a dropped session): end our side too, the server allows half-open sockets
    socket.on('end', () => socket.end());
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      let frame;
      while ((frame = readFrame(pending)) !== null) {
        pending = pending.subarray(frame.size);
        if (frame.opcode === 8) {
          socket.end(writeFrame(8, frame.payload));
          return;
        }
        if (frame.opcode === 1 || frame.opcode === 2) {
          socket.write(writeFrame(frame.opcode, frame.payload));
        }
      }
    });
    return;
  }
  // a refusal with a malformed length, as a broken backend may send one
  if (path === '/refuse-bad-length') {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 12abc\r\nConnection: close\r\n\r\nnot allowed\n');
    return;
  }
  if (path === '/refuse-bad-chunk') {
    socket.end('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nnot allowed\r\n0\r\n\r\n');
    return;
  }
  socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 18\r\nConnection: close\r\n\r\nno such upgrade \r\n');
}

function readFrame(buffer) {
  if (buffer.length < 2) {
    return null;
  }
  const opcode = buffer[0] & 0x0f;
  const masked = (buffer[1] & 0x80) !== 0;
  let length = buffer[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) {
      return null;
    }
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) {
      return null;
    }
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) {
    offset += 4;
  }
  if (buffer.length < offset + length) {
    return null;
  }
  const payload = Buffer.from(buffer.subarray(offset, offset + length));
  if (masked) {
    for (let i = 0; i < payload.length; i++) {
      payload[i] ^= buffer[maskOffset + (i % 4)];
    }
  }
  return { opcode, payload, size: offset + length };
}

function writeFrame(opcode, payload) {
  const header = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length])
    : payload.length < 65536 ? Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff])
      : null;
  if (header === null) {
    throw new Error('frame too large for this test backend');
  }
  return Buffer.concat([header, payload]);
}

// ---------------------------------------------------------------------------------------------
// Main

function main() {
  applyStartupSwitches();
  const server = http.createServer();
  server.on('request', (req, res) => handle(server, req, res));
  server.on('upgrade', upgrade);
  if (RECORD_FILE) {
    server.on('clientError', (e, socket) => {
      record({ kind: 'clientError', error: `${e.code || ''} ${e.message}` });
      if (socket.writable) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      } else {
        socket.destroy();
      }
    });
  }
  server.on('error', (e) => fail(`listen failed: ${e.message}`, e.code === 'EADDRINUSE' ? 98 : 1));
  installSignalHandlers(server);
  watchParent();
  const delay = Number(env.BACKEND_START_DELAY_MS || 0);
  setTimeout(() => {
    const listening = () => {
      listeningSince = Date.now();
      if (!QUIET) {
        console.log(SOCKET ? `listening on ${SOCKET}` : `listening on 127.0.0.1:${server.address().port}`);
      }
    };
    if (SOCKET) {
      server.listen(SOCKET, listening);
    } else {
      server.listen(PORT, '127.0.0.1', listening);
    }
  }, delay > 0 ? delay : 0);
}

main();
