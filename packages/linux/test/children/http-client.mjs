// A client driven over stdin, one JSON command a line, answering each with a JSON line that
// carries the command's id:
//   { id, op: 'get', host, port, localAddress, count }  -> { id, answers: [{ name, remote } | { error }] }
//     `count` requests, each on a new connection from localAddress.
//   { id, op: 'open', key, host, port, localAddress }   -> { id, name, localPort }
//     one request on a keep-alive connection kept under `key`.
//   { id, op: 'again', key }                            -> { id, name, localPort, reused }
//     another request on that connection.
import http from 'node:http';
import readline from 'node:readline';

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const kept = new Map();

function get(options) {
  return new Promise((resolve) => {
    const req = http.get({ path: '/', timeout: 3000, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ ...JSON.parse(body), localPort: req.socket?.localPort, reused: req.reusedSocket }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ error: error.code ?? error.message }));
  });
}

async function handle(cmd) {
  if (cmd.op === 'get') {
    const answers = [];
    for (let i = 0; i < cmd.count; i++) {
      const a = await get({ host: cmd.host, port: cmd.port, localAddress: cmd.localAddress, agent: false });
      answers.push(a.error === undefined ? { name: a.name, remote: a.remote } : { error: a.error });
    }
    return { answers };
  }
  if (cmd.op === 'open') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const target = { host: cmd.host, port: cmd.port, localAddress: cmd.localAddress, agent };
    kept.set(cmd.key, target);
    return get(target);
  }
  if (cmd.op === 'again') return get(kept.get(cmd.key));
  return { error: `unknown op ${cmd.op}` };
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  handle(cmd).then((result) => out({ id: cmd.id, ...result }), (error) => out({ id: cmd.id, error: String(error) }));
});
process.stdin.on('end', () => {
  for (const target of kept.values()) target.agent.destroy();
});
process.on('SIGTERM', () => process.exit(0));
