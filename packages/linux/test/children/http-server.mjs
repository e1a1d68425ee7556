// A "pod": an HTTP server that answers every request with its name and the address the
// request came from (the node's, when the VIP's NAT masquerades). Keep-alive connections are
// kept for a minute, so a test can send a second request on the same one much later.
// Config: { name, host, port }
import { Buffer } from 'node:buffer';
import http from 'node:http';

const c = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
let requests = 0;
const server = http.createServer((req, res) => {
  requests++;
  const body = JSON.stringify({ name: c.name, remote: req.socket.remoteAddress });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(c.port, c.host, () => out({ event: 'listening', name: c.name }));
process.on('SIGTERM', () => {
  out({ event: 'stopped', requests });
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
