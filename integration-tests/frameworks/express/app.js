// Express behind Portico (docs/frameworks.md). What the app needs: listen on 127.0.0.1 (or on the
// Unix socket Portico gives it), check the pairing token, mount its routes at the path base, trust
// the loopback proxy.
'use strict';

const express = require('express');

const app = express();
app.use((req, res, next) => (req.get('x-portico-token') === process.env.PORTICO_TOKEN
  ? next() : res.status(400).send('missing or wrong X-Portico-Token\n')));
// Portico is the one proxy in front, on loopback: X-Forwarded-For/-Proto/-Host are its own. On a
// Unix socket a peer has no address to match: the socket is private to Portico, so it is trusted.
const socket = process.env.PORTICO_SOCKET;
app.set('trust proxy', socket ? true : 'loopback');

const router = express.Router();
router.get('/whoami', (req, res) => {
  res.json({
    host: req.get('host'),
    hostname: req.hostname,
    scheme: req.protocol,
    client: req.ip,
    url: `${req.protocol}://${req.get('host')}${req.originalUrl}`,
  });
});
// an absolute redirect built from the request, as apps that write full links do
router.get('/go', (req, res) => {
  res.redirect(`${req.protocol}://${req.get('host')}${req.baseUrl}/whoami`);
});
app.use(process.env.PORTICO_PATH_BASE || '/', router);

if (socket) {
  app.listen(socket);
} else {
  app.listen(Number(process.env.PORTICO_PORT), '127.0.0.1');
}
