// UDP both ways. Config { name, port }: a "pod" that answers every datagram with its name.
// Config { client: true }: a client driven over stdin, one JSON command a line, answered with
// a JSON line carrying the command's id:
//   { id, op: 'send', key, host, port } -> { id, name, localPort } | { id, error: 'timeout' }
//     one datagram on the socket kept under `key` (bound once: one source port, one flow),
//     and the first answer within 1 s.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import readline from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';

const c = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

if (c.client !== true) {
  const server = dgram.createSocket({ type: 'udp6' });
  server.on('message', (_msg, rinfo) => server.send(JSON.stringify({ name: c.name }), rinfo.port, rinfo.address));
  server.bind(c.port, '::', () => out({ event: 'listening', name: c.name }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  const sockets = new Map();
  const socketFor = async (key, host) => {
    let s = sockets.get(key);
    if (s === undefined) {
      s = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
      await new Promise((resolve) => s.bind(0, resolve));
      sockets.set(key, s);
    }
    return s;
  };
  const send = async (cmd) => {
    const s = await socketFor(cmd.key, cmd.host);
    return new Promise((resolve) => {
      const onMessage = (msg) => {
        clearTimeout(timer);
        s.off('message', onMessage);
        resolve({ ...JSON.parse(msg.toString()), localPort: s.address().port });
      };
      const timer = setTimeout(() => {
        s.off('message', onMessage);
        resolve({ error: 'timeout' });
      }, 1000);
      s.on('message', onMessage);
      s.send('ping', cmd.port, cmd.host);
    });
  };
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const cmd = JSON.parse(line);
    (cmd.op === 'send' ? send(cmd) : Promise.resolve({ error: `unknown op ${cmd.op}` })).then(
      (result) => out({ id: cmd.id, ...result }),
      (error) => out({ id: cmd.id, error: String(error) }),
    );
  });
  process.stdin.on('end', () => sockets.forEach((s) => s.close()));
  process.on('SIGTERM', () => process.exit(0));
}
