/**
 * A keep-alive HTTP(S) client for the failover figures (the ingress demo and
 * scripts/bench/nat-cluster run it in the lab's client namespace): one GET every `--every` ms
 * on one kept-alive connection, one JSON line per attempt on stdout (`Attempt`).
 *
 * Its retry policy, as a reasonable client's, and why these numbers:
 * - A connection that does not connect within `--connect-timeout` ms is given up. A SYN is
 *   answered by the peer's kernel, not by a process, so even a loaded machine answers one in a
 *   few ms; a SYN sent before the new Master's gratuitous ARP is lost, and TCP would only send
 *   it again after 1 s.
 * - A request not answered within `--response-timeout` ms of its connection being ready (the
 *   TLS handshake included) is given up, and its connection dropped: TCP would retransmit the
 *   request on the dead path after 200 ms, then 400, 800...
 * - A failed request is sent again on a new connection (the failed one is destroyed): at once
 *   if it failed on a reused connection (browsers resend an idempotent request that a kept-alive
 *   connection lost), else `--every` ms after it was sent, which after a timeout is at once too.
 *   So a refusal or a reset of a new connection does not become a busy loop.
 * - 0 for a timeout: none, the client relies on TCP alone (to see what the network does with a
 *   dead connection's packets).
 *
 * After a crash, the attempt in flight when the new Master takes over ends at most one connect
 * timeout later, and the next one reaches the new Master: the first answer comes within
 * Master_Down_Interval + the connect timeout + one request's round trips of the old Master's
 * last advert. For that to fit Master_Down_Interval + 100 ms, the connect timeout must leave
 * room in those 100 ms for the new Master's own delay and the round trips; a retry period of
 * 100 ms or more makes the bound unreachable whenever the crash falls just after an advert.
 *
 * Usage: node keep-alive-client.ts --vip A --scheme http|https --host H --path P
 *   [--source A] [--cookie C] [--every 20] [--connect-timeout 50] [--response-timeout 100] [--lab PREFIX]
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

/** One attempt, as printed (times in ms since the epoch). */
export interface Attempt {
  readonly sent: number;
  readonly t: number;
  /** 1, 2, ... in the order the client opened its connections. */
  readonly connection: number | undefined;
  readonly localPort: number | undefined;
  /** Whether the attempt went out on a connection an earlier request had used. */
  readonly reused: boolean;
  readonly status?: number;
  readonly body?: string;
  /** `connect timeout`, `response timeout`, or the socket's error code (ECONNRESET...). */
  readonly error?: string;
}

function options(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < argv.length; i += 2) out.set((argv[i] ?? '').replace(/^--/, ''), argv[i + 1] ?? '');
  return out;
}

function main(): void {
  const o = options(process.argv.slice(2));
  const need = (name: string): string => {
    const v = o.get(name);
    if (v === undefined) throw new Error(`keep-alive-client: --${name} is missing`);
    return v;
  };
  const scheme = need('scheme');
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`keep-alive-client: --scheme ${scheme} is not http or https`);
  const everyMs = Number(o.get('every') ?? 20);
  const connectTimeoutMs = Number(o.get('connect-timeout') ?? 50);
  const responseTimeoutMs = Number(o.get('response-timeout') ?? 100);
  const host = need('host');
  const source = o.get('source');
  const cookie = o.get('cookie');
  const agent = scheme === 'http' ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : new https.Agent({ keepAlive: true, maxSockets: 1 });
  const get = scheme === 'http' ? http.get : https.get;
  const numbers = new WeakMap<Socket, number>();
  let opened = 0;

  const attempt = (): void => {
    const sent = Date.now();
    let socket: Socket | undefined;
    let reused = false;
    let finished = false;
    const timers: NodeJS.Timeout[] = [];
    const done = (result: { status?: number; body?: string; error?: string }): void => {
      if (finished) return;
      finished = true;
      for (const timer of timers) clearTimeout(timer);
      const line: Attempt = { sent, t: Date.now(), connection: socket === undefined ? undefined : numbers.get(socket), localPort: socket?.localPort, reused, ...result };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      const again = result.error !== undefined && reused;
      setTimeout(attempt, again ? 0 : Math.max(0, everyMs - (Date.now() - sent)));
    };
    const giveUp = (what: string, ms: number): void => {
      if (ms > 0) timers.push(setTimeout(() => req.destroy(new Error(what)), ms));
    };
    const req = get(
      {
        host: need('vip'),
        port: scheme === 'http' ? 80 : 443,
        path: need('path'),
        agent,
        headers: { host, ...(cookie === undefined ? {} : { cookie }) },
        ...(source === undefined ? {} : { localAddress: source }),
        ...(scheme === 'https' ? { servername: host, rejectUnauthorized: false } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: body.trim() }));
        res.on('error', (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
      },
    );
    req.on('socket', (s: Socket) => {
      socket = s;
      reused = numbers.has(s);
      if (!reused) numbers.set(s, ++opened);
      if (s.connecting) {
        giveUp('connect timeout', connectTimeoutMs);
        s.once('connect', () => {
          for (const timer of timers.splice(0)) clearTimeout(timer);
          giveUp('response timeout', responseTimeoutMs);
        });
      } else giveUp('response timeout', responseTimeoutMs);
    });
    req.on('error', (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
  };
  attempt();
}

main();
