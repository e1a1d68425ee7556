/**
 * A byte relay between a TCP port and a unix socket, so processes in the lab's node
 * namespaces reach a service of the root namespace (the test's kube-apiserver on 127.0.0.1)
 * without any address leaving the lab: a unix socket is a file, seen from every namespace.
 *
 *   node scripts/lab/relay.ts unix-to-tcp SOCKET HOST PORT   # root namespace: SOCKET -> HOST:PORT
 *   node scripts/lab/relay.ts tcp-to-unix HOST PORT SOCKET   # node namespace: HOST:PORT -> SOCKET
 *
 * TLS passes through untouched (the client checks the API server's certificate for HOST).
 * A connection whose far side refuses (the API server stopped) is closed, never fatal.
 */
import { rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'unix-to-tcp' && args.length === 3) {
  const [socket, host, port] = args as [string, string, string];
  rmSync(socket, { force: true });
  createServer((c) => pipeBoth(c, connect(Number(port), host))).listen(socket, () => process.stdout.write('listening\n'));
} else if (mode === 'tcp-to-unix' && args.length === 3) {
  const [host, port, socket] = args as [string, string, string];
  createServer((c) => pipeBoth(c, connect(socket))).listen(Number(port), host, () => process.stdout.write('listening\n'));
} else {
  process.stderr.write('usage: relay.ts unix-to-tcp SOCKET HOST PORT | tcp-to-unix HOST PORT SOCKET\n');
  process.exit(2);
}
