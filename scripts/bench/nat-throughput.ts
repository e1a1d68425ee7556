/**
 * The NAT binding's cost (issue 12): HTTP requests per second from one client through the VIP
 * (node -> DNAT + masquerade -> pod) against the same client hitting the pod directly, and the
 * time from a binding change call to the nftables update done.
 *
 * Lab: one switch; the client, a "node" holding the VIP and the binding, and three "pods"
 * running node:http servers. The throughput rounds alternate direct, routed through the node
 * (conntrack on, no NAT: the VIP's path without the binding) and VIP, each measured
 * with keep-alive connections and with a new connection per request (where NAT's work is:
 * only a connection's first packet meets the rules). The change timings run inside the node's
 * namespace, with 1 and with 100 bindings installed, changing one binding's endpoints each time.
 *
 * Usage: scripts/bench/nat-throughput [--seconds S] [--rounds N] [--concurrency C] [--changes N]
 * [--modes keep-alive,new] (defaults 3, 3, 8, 40, both; about 90 s). Roles used inside the lab: --role server|load|changes.
 */
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.ts';
import { flags, machineLine, median, note, numberFlag, percentile, say } from './lib/report.ts';

const SELF = fileURLToPath(import.meta.url);
const SUBNET = 57;
const VIP = `10.99.${SUBNET}.100`;
const PORT = 8080;

const args = flags();
const role = args.get('role');
if (role === 'server') await server();
else if (role === 'load') await load();
else if (role === 'changes') await changes();
else await main();

/** A pod: answers every request with its name. */
async function server(): Promise<void> {
  const name = args.get('name') ?? 'pod';
  const body = Buffer.from(name);
  const s = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  s.keepAliveTimeout = 60_000;
  s.listen(PORT, () => process.stdout.write('listening\n'));
}

/** The client: `concurrency` loops of GET for `seconds`; prints { requests, errors }. */
async function load(): Promise<void> {
  const host = args.get('host') ?? '';
  const port = numberFlag(args, 'port', 80);
  const seconds = numberFlag(args, 'seconds', 3);
  const concurrency = numberFlag(args, 'concurrency', 8);
  const keepAlive = args.get('keep-alive') === 'true';
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: concurrency }) : undefined;
  let requests = 0;
  let errors = 0;
  // The first half second (JIT, connections, neighbour resolution) is not counted.
  const warmup = 500;
  const start = performance.now();
  const counted = start + warmup;
  const deadline = counted + seconds * 1000;
  const get = (): Promise<void> =>
    new Promise((resolve) => {
      const req = http.get({ host, port, path: '/', agent: agent ?? false }, (res) => {
        res.resume();
        res.on('end', () => {
          if (performance.now() >= counted) requests++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await get();
    }),
  );
  agent?.destroy();
  process.stdout.write(`${JSON.stringify({ requests, errors, seconds: (performance.now() - counted) / 1000 })}\n`);
}

/** Inside the node: apply() timings for one binding's endpoint change, with 1 and 100 bindings. */
async function changes(): Promise<void> {
  const { NatBindings } = await import('../../packages/linux/dist/index.js');
  const reps = numberFlag(args, 'changes', 40);
  const nat = new NatBindings({ table: 'keepvip_nat_bench' });
  const out: Record<string, number[]> = {};
  for (const size of [1, 100]) {
    const bindings = (step: number) =>
      Array.from({ length: size }, (_, i) => ({
        vip: `10.200.${i >> 8}.${i & 255}`,
        protocol: 'TCP' as const,
        port: 80,
        // Binding 0 swaps one of its three endpoints at every step; the others stay.
        endpoints: [0, 1, 2].map((j) => ({ address: `10.201.${i & 255}.${j === 2 && i === 0 ? 3 + (step % 2) : j + 1}`, port: 8080 })),
        clientIpAffinity: { timeoutSeconds: 10_800 },
      }));
    await nat.apply(bindings(0));
    const times: number[] = [];
    for (let step = 1; step <= reps; step++) {
      const t0 = performance.now();
      await nat.apply(bindings(step));
      times.push(performance.now() - t0);
    }
    out[String(size)] = times;
  }
  await nat.remove();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Runs a role of this script in a namespace and returns its last stdout line. */
function runRole(ns: string, roleArgs: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, SELF, ...roleArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', (code) => (code === 0 ? resolve(stdout.trim().split('\n').pop() ?? '') : reject(new Error(`${roleArgs.join(' ')} exited ${code}: ${stderr}`))));
  });
}

async function main(): Promise<void> {
  const seconds = numberFlag(args, 'seconds', 3);
  const rounds = numberFlag(args, 'rounds', 3);
  const concurrency = numberFlag(args, 'concurrency', 8);
  const reps = numberFlag(args, 'changes', 40);
  const modes = (args.get('modes') ?? 'keep-alive,new').split(',').map((m) => {
    if (m !== 'keep-alive' && m !== 'new') throw new Error(`--modes wants keep-alive and/or new, not ${m}`);
    return m === 'keep-alive';
  });
  const lab = Lab.create({ nodes: 4, subnet: SUBNET });
  try {
    const node = lab.node(0);
    const pods = [lab.node(1), lab.node(2), lab.node(3)];
    must(lab.exec(node.ns, ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']));
    must(lab.exec(node.ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']));
    for (const [i, pod] of pods.entries()) {
      const child = lab.spawn(pod.ns, [process.execPath, SELF, '--role', 'server', '--name', `pod${i + 1}`]);
      await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
    }
    const { NatBindings } = await import('../../packages/linux/dist/index.js');
    // The binding is applied from here, its nft run in the node's namespace.
    const nft = `${lab.dir}/nft`;
    writeFileSync(nft, `#!/bin/sh\nexec ip netns exec ${node.ns} nft "$@"\n`);
    chmodSync(nft, 0o755);
    const nat = new NatBindings({ nft });
    const bind = (endpoints: typeof pods) =>
      nat.apply([{ vip: VIP, protocol: 'TCP', port: 80, endpoints: endpoints.map((p) => ({ address: p.ipv4, port: PORT })) }]);

    const pod1 = pods[0] as (typeof pods)[number];
    // Routed through the node without NAT: the same two hops as the VIP's path, so that the
    // difference is the NAT alone. Redirects off, or the node would send the client straight on.
    must(lab.exec(node.ns, ['sysctl', '-qw', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0']));
    // Conntrack on, as on every Kubernetes node (kube-proxy, the CNI): a rule that reads the
    // connection state is enough to make the kernel track this namespace's connections.
    const viaNode = (up: boolean) => {
      const verb = up ? 'add' : 'del';
      must(lab.exec(lab.client.ns, ['ip', 'route', verb, `${pod1.ipv4}/32`, 'via', node.ipv4]));
      must(lab.exec(pod1.ns, ['ip', 'route', verb, `${lab.client.ipv4}/32`, 'via', node.ipv4]));
      if (!up) return must(lab.exec(node.ns, ['nft', 'delete', 'table', 'inet', 'bench_ct']));
      must(lab.exec(node.ns, ['nft', 'add', 'table', 'inet', 'bench_ct']));
      must(lab.exec(node.ns, ['nft', 'add', 'chain', 'inet', 'bench_ct', 'forward', '{ type filter hook forward priority 0; }']));
      must(lab.exec(node.ns, ['nft', 'add', 'rule', 'inet', 'bench_ct', 'forward', 'ct', 'state', 'invalid', 'drop']));
    };
    const targets = [
      { name: 'direct to pod1', host: pod1.ipv4, port: PORT, before: () => bind([]) },
      { name: 'routed via node', host: pod1.ipv4, port: PORT, before: async () => (await bind([]), viaNode(true)), after: () => viaNode(false) },
      { name: 'VIP, 1 endpoint (pod1)', host: VIP, port: 80, before: () => bind(pods.slice(0, 1)) },
      { name: 'VIP, 3 endpoints', host: VIP, port: 80, before: () => bind(pods) },
    ];
    const rates = new Map<string, number[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const keepAlive of modes) {
        for (const t of targets) {
          await t.before();
          const line = await runRole(lab.client.ns, [
            '--role', 'load', '--host', t.host, '--port', String(t.port), '--seconds', String(seconds),
            '--concurrency', String(concurrency), '--keep-alive', String(keepAlive),
          ]);
          const r = JSON.parse(line) as { requests: number; errors: number; seconds: number };
          t.after?.();
          if (r.errors > 0) throw new Error(`${t.name}: ${r.errors} requests failed`);
          const key = `${keepAlive ? 'keep-alive' : 'new connection per request'}|${t.name}`;
          rates.set(key, [...(rates.get(key) ?? []), r.requests / r.seconds]);
          note(`round ${round}: ${key}: ${(r.requests / r.seconds).toFixed(0)} req/s`);
        }
      }
    }
    await nat.remove();
    note(`binding changes: ${reps} per table size, inside ${node.ns}`);
    const timings = JSON.parse(await runRole(node.ns, ['--role', 'changes', '--changes', String(reps)])) as Record<string, number[]>;

    say(`\n### HTTP requests/s through the VIP (DNAT + masquerade) vs directly: ${concurrency} connections, ${rounds} rounds of ${seconds} s, median (range)\n`);
    say('| connections | direct to pod1 | VIP -> pod1 | VIP / direct (goal >= 0.9) | routed via node, conntrack, no NAT | VIP / routed | VIP -> 3 pods |');
    say('|---|---:|---:|---:|---:|---:|---:|');
    for (const mode of modes.map((k) => (k ? 'keep-alive' : 'new connection per request'))) {
      const all = (t: string) => rates.get(`${mode}|${t}`) ?? [];
      const m = (t: string) => median(all(t)) ?? NaN;
      // The median, and the range of the rounds: on a shared machine the spread says how far to trust it.
      const cell = (t: string) => `${m(t).toFixed(0)} (${Math.min(...all(t)).toFixed(0)}–${Math.max(...all(t)).toFixed(0)})`;
      const direct = m('direct to pod1');
      const vip = m('VIP, 1 endpoint (pod1)');
      const routed = m('routed via node');
      say(
        `| ${mode} | ${cell('direct to pod1')} | ${cell('VIP, 1 endpoint (pod1)')} | ${(vip / direct).toFixed(2)} | ${cell('routed via node')} | ${(vip / routed).toFixed(2)} | ${cell('VIP, 3 endpoints')} |`,
      );
    }
    say(`\n### Binding change (one binding's endpoint swapped, affinity on): apply() call to nftables updated, ${reps} changes\n`);
    say('| bindings installed | median | p90 | max | goal |');
    say('|---:|---:|---:|---:|---|');
    for (const [size, times] of Object.entries(timings)) {
      const sorted = [...times].sort((a, b) => a - b);
      say(`| ${size} | ${percentile(sorted, 50)?.toFixed(1)} ms | ${percentile(sorted, 90)?.toFixed(1)} ms | ${sorted.at(-1)?.toFixed(1)} ms | < 100 ms |`);
    }
    say(`\n${machineLine()}`);
  } finally {
    lab.destroy();
  }
}

function must(r: { code: number; stderr: string }): void {
  if (r.code !== 0) throw new Error(r.stderr);
}
