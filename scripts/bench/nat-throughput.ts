/**
 * The NAT binding's cost (issue 12): HTTP requests per second from one client through the VIP
 * (node -> DNAT + masquerade -> pod) against the same client hitting the pod directly, and the
 * time from a binding change call to the nftables update done.
 *
 * Lab: one switch; the client, a "node" holding the VIP and the binding, and three "pods"
 * running node:http servers. Each round measures every path (`--paths`) between two direct
 * measurements (direct, path, direct, path, ..., direct), each with keep-alive connections and
 * with a new connection per request (where the NAT's work is: only a connection's first packet
 * meets the rules); a path's figure is its paired ratio to the direct measurements either side,
 * so that the load of a shared machine, which drifts over seconds, mostly cancels. Besides the
 * product's rules, paths without NAT (the hop through the node alone, with and without
 * conntrack) and hand-written minimal rule sets say where a new connection's cost is. The change
 * timings run inside the node's namespace, with 1 and with 100 bindings installed (`--sizes`),
 * changing one binding's endpoints each time; `--changes-only` runs them alone.
 *
 * Usage: scripts/bench/nat-throughput [--seconds S] [--rounds N] [--concurrency C] [--changes N]
 * [--sizes 1,100] [--changes-only] [--modes new,keep-alive] [--paths hop,hop-ct,vip,vip3]
 * [--split-cpus] (defaults 1, 15, 8, 40; about 6 min; every path:
 * hop,hop-ct,vip,vip-affinity,vip3,min-masquerade,min-snat).
 * --split-cpus runs the client and the pods on CPU 0 and the node's and the switch's packet work
 * on CPU 1, as if the node were another machine. Roles used inside the lab: --role
 * server|load|changes.
 */
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.ts';
import { flags, machineLine, note, numberFlag, percentile, say } from './lib/report.ts';

const SELF = fileURLToPath(import.meta.url);
const SUBNET = 57;
const VIP = `10.99.${SUBNET}.100`;
const PORT = 8080;

const args = flags();

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

/**
 * The client: stays up for the whole run (warm JIT, no process start in a measurement) and
 * answers each command line { host, port, seconds, keepAlive } with one line { requests (counted),
 * all (with the warm-up's), errors, seconds, synRetrans }: `concurrency` loops of GET for `seconds`.
 */
async function load(): Promise<void> {
  const concurrency = numberFlag(args, 'concurrency', 8);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const c = JSON.parse(line) as { host: string; port: number; seconds: number; keepAlive: boolean };
    const agent = c.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: concurrency }) : undefined;
    let requests = 0;
    let all = 0;
    let errors = 0;
    // The first 200 ms (connections, neighbour resolution, a new rule set's first packets) is not counted.
    const start = performance.now();
    const counted = start + 200;
    const deadline = counted + c.seconds * 1000;
    const synsBefore = synRetransmits();
    const get = (): Promise<void> =>
      new Promise((resolve) => {
        const req = http.get({ host: c.host, port: c.port, path: '/', agent: agent ?? false }, (res) => {
          res.resume();
          res.on('end', () => {
            all++;
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
    const seconds = (performance.now() - counted) / 1000;
    process.stdout.write(`${JSON.stringify({ requests, all, errors, seconds, synRetrans: synRetransmits() - synsBefore })}\n`);
  }
}

/**
 * SYNs this namespace has sent again (TcpExt TCPSynRetrans): a SYN lost on the way (a full
 * conntrack table, a drop) costs a connection a 1 s timeout, which a rate alone would hide.
 */
function synRetransmits(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith('TcpExt:'));
  const names = (lines[at] ?? '').split(' ');
  const values = (lines[at + 1] ?? '').split(' ');
  return Number(values[names.indexOf('TCPSynRetrans')] ?? 0);
}

/** One table size's change timings (ms): apply() call to resolved, and its synchronous part. */
interface ChangeTimes {
  readonly wall: number[];
  readonly js: number[];
}

/** The table sizes of the change timings (`--sizes`, default 1 and 100 bindings). */
function sizes(): number[] {
  return (args.get('sizes') ?? '1,100').split(',').map((n) => {
    const size = Number(n);
    if (!Number.isInteger(size) || size < 1 || size > 65_536) throw new Error(`--sizes wants numbers of bindings from 1 to 65536, not ${n}`);
    return size;
  });
}

/** Inside the node: apply() timings for one binding's endpoint change, with each table size. */
async function changes(): Promise<void> {
  const { NatBindings } = await import('../../packages/linux/dist/index.js');
  const reps = numberFlag(args, 'changes', 40);
  const nat = new NatBindings({ table: 'keepvip_nat_bench' });
  const out: Record<string, ChangeTimes> = {};
  for (const size of sizes()) {
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
    const times: ChangeTimes = { wall: [], js: [] };
    for (let step = 1; step <= reps; step++) {
      const desired = bindings(step);
      const t0 = performance.now();
      const applied = nat.apply(desired);
      // apply()'s own work (validation, the diff, the script) before it waits for nft: what
      // blocks the daemon's event loop, and a change queued behind this one.
      times.js.push(performance.now() - t0);
      await applied;
      times.wall.push(performance.now() - t0);
    }
    out[String(size)] = times;
  }
  await nat.remove();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Runs a role of this script in a namespace and returns its last stdout line. */
function runRole(ns: string, roleArgs: string[], nodeFlags: readonly string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...nodeFlags, SELF, ...roleArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', (code) => (code === 0 ? resolve(stdout.trim().split('\n').pop() ?? '') : reject(new Error(`${roleArgs.join(' ')} exited ${code}: ${stderr}`))));
  });
}

interface Measured {
  readonly requests: number;
  readonly all: number;
  readonly errors: number;
  readonly seconds: number;
  readonly synRetrans: number;
}

interface Measurement {
  readonly path: string;
  readonly rate: number;
  /** CPU time of the client and the pods per request, µs. */
  readonly cpuUs: number;
  /** ksoftirqd's CPU time per request, µs (the whole machine's: other sessions' too). */
  readonly softUs: number;
  readonly synRetrans: number;
  readonly conntrack: number;
}

/** Total time these processes have run on a CPU (schedstat: nanoseconds, exact), gone ones 0. */
function runtimeNs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + Number(readOr(`/proc/${pid}/schedstat`).split(' ')[0] ?? 0), 0);
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The client role, started once; `measure` runs one measurement on it. */
function startClient(
  ns: string,
  concurrency: number,
  pin: readonly string[],
): { pid: number; measure: (c: { host: string; port: number; seconds: number; keepAlive: boolean }) => Promise<Measured>; stop: () => void } {
  const child = spawn('ip', ['netns', 'exec', ns, ...pin, process.execPath, SELF, '--role', 'load', '--concurrency', String(concurrency)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting: Array<{ resolve: (m: Measured) => void; reject: (e: Error) => void }> = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line) as Measured));
  child.once('exit', (code) => waiting.splice(0).forEach((w) => w.reject(new Error(`the client exited (${code})`))));
  return {
    // `ip netns exec` (and taskset) exec the command: this is node's own PID.
    pid: child.pid ?? 0,
    measure: (c) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(c)}\n`);
      }),
    stop: () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    },
  };
}

/** A way from the client to pod1's server, and how to set it up in the node and take it down. */
interface Path {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly up: () => Promise<unknown> | void;
  readonly down: () => Promise<unknown> | void;
}

/**
 * What each path is, for the report. `direct` is the reference every other path is measured
 * against, in the rounds either side of it.
 */
const PATHS: Record<string, string> = {
  direct: 'the client straight to pod1 on the switch',
  hop: 'routed through the node, no netfilter (the extra hop alone)',
  'hop-ct': 'routed through the node, conntrack on (a Kubernetes node without the binding)',
  vip: 'the VIP, NatBindings to pod1 (the product)',
  'vip-affinity': 'the VIP, NatBindings to pod1 with ClientIP affinity',
  vip3: 'the VIP, NatBindings to pod1-3',
  'min-masquerade': 'the VIP, the fewest rules: one dnat, one masquerade (table ip)',
  'min-snat': 'the VIP, the fewest rules: one dnat, snat to the node address',
};

async function main(): Promise<void> {
  const seconds = numberFlag(args, 'seconds', 1);
  const rounds = numberFlag(args, 'rounds', 15);
  const concurrency = numberFlag(args, 'concurrency', 8);
  const reps = numberFlag(args, 'changes', 40);
  const modes = (args.get('modes') ?? 'new,keep-alive').split(',').map((m) => {
    if (m !== 'keep-alive' && m !== 'new') throw new Error(`--modes wants keep-alive and/or new, not ${m}`);
    return m;
  });
  const chosen = (args.get('paths') ?? 'hop,hop-ct,vip,vip3').split(',');
  const splitCpus = args.get('split-cpus') === 'true';
  const changesOnly = args.get('changes-only') === 'true';
  const tableSizes = sizes().join(',');
  for (const name of chosen) {
    if (!(name in PATHS) || name === 'direct') throw new Error(`--paths wants some of ${Object.keys(PATHS).slice(1).join(', ')}, not ${name}`);
  }
  const lab = Lab.create({ nodes: 4, subnet: SUBNET });
  let client: ReturnType<typeof startClient> | undefined;
  try {
    const node = lab.node(0);
    const pods = [lab.node(1), lab.node(2), lab.node(3)];
    must(lab.exec(node.ns, ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']));
    if (changesOnly) {
      changeTable(reps, await changeTimings(node.ns, reps, tableSizes));
      say(`\n${machineLine()}`);
      return;
    }
    // Forwarding on, redirects off (or the node would send the client straight to pod1 on the
    // routed paths, and the VIP's traffic leaves by the interface it came in).
    must(lab.exec(node.ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0']));
    const pin = splitCpus ? ['taskset', '-c', '0'] : [];
    if (splitCpus) {
      // The client and the pods on CPU 0, the node and the switch on CPU 1, as if they were
      // other machines: each namespace's receive work goes to its CPU (RPS), the processes are
      // pinned, and a packet's transmission runs where its sender runs.
      const rps = (ns: string, dev: string, mask: number) => must(lab.exec(ns, ['sh', '-c', `echo ${mask} > /sys/class/net/${dev}/queues/rx-0/rps_cpus`]));
      for (const ns of [lab.client.ns, ...pods.map((p) => p.ns)]) rps(ns, 'eth0', 1);
      rps(node.ns, 'eth0', 2);
      for (const port of ['pc', ...lab.nodes.map((n) => n.switchPort)]) rps(lab.switchNs, port, 2);
    }
    const servers: number[] = [];
    for (const [i, pod] of pods.entries()) {
      const child = lab.spawn(pod.ns, [...pin, process.execPath, SELF, '--role', 'server', '--name', `pod${i + 1}`]);
      await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
      servers.push(child.pid ?? 0);
    }
    const { NatBindings } = await import('../../packages/linux/dist/index.js');
    // The binding is applied from here, its nft run in the node's namespace.
    const nft = `${lab.dir}/nft`;
    writeFileSync(nft, `#!/bin/sh\nexec ip netns exec ${node.ns} nft "$@"\n`);
    chmodSync(nft, 0o755);
    const nat = new NatBindings({ nft });
    const bind = (endpoints: typeof pods, affinity = false) =>
      nat.apply([
        {
          vip: VIP,
          protocol: 'TCP',
          port: 80,
          endpoints: endpoints.map((p) => ({ address: p.ipv4, port: PORT })),
          clientIpAffinity: affinity ? { timeoutSeconds: 10_800 } : undefined,
        },
      ]);
    const pod1 = pods[0] as (typeof pods)[number];
    const nftScript = (script: string) => {
      writeFileSync(`${lab.dir}/rules.nft`, `${script}\n`);
      must(lab.exec(node.ns, ['nft', '-f', `${lab.dir}/rules.nft`]));
    };
    const routes = (up: boolean) => {
      const verb = up ? 'add' : 'del';
      must(lab.exec(lab.client.ns, ['ip', 'route', verb, `${pod1.ipv4}/32`, 'via', node.ipv4]));
      must(lab.exec(pod1.ns, ['ip', 'route', verb, `${lab.client.ipv4}/32`, 'via', node.ipv4]));
    };
    // Hand-written rule sets to weigh the product's against: the least a DNAT can be.
    const minimal = (source: string) => () =>
      nftScript(
        `table ip bench_nat {\n chain pre { type nat hook prerouting priority dstnat; ip daddr ${VIP} tcp dport 80 dnat to ${pod1.ipv4}:${PORT}\n }\n` +
          ` chain post { type nat hook postrouting priority srcnat; ct status dnat ${source}\n }\n}`,
      );
    const dropMinimal = () => nftScript('delete table ip bench_nat');
    const all: Record<string, Path> = {
      direct: { name: 'direct', host: pod1.ipv4, port: PORT, up: () => undefined, down: () => undefined },
      hop: { name: 'hop', host: pod1.ipv4, port: PORT, up: () => routes(true), down: () => routes(false) },
      // A rule that reads the connection state is enough for the kernel to track this namespace's connections.
      'hop-ct': {
        name: 'hop-ct',
        host: pod1.ipv4,
        port: PORT,
        up: () => (routes(true), nftScript('table inet bench_ct {\n chain forward { type filter hook forward priority 0; ct state invalid drop\n }\n}')),
        down: () => (routes(false), nftScript('delete table inet bench_ct')),
      },
      vip: { name: 'vip', host: VIP, port: 80, up: () => bind([pod1]), down: () => nat.remove() },
      'vip-affinity': { name: 'vip-affinity', host: VIP, port: 80, up: () => bind([pod1], true), down: () => nat.remove() },
      vip3: { name: 'vip3', host: VIP, port: 80, up: () => bind(pods), down: () => nat.remove() },
      'min-masquerade': { name: 'min-masquerade', host: VIP, port: 80, up: minimal('masquerade'), down: dropMinimal },
      'min-snat': { name: 'min-snat', host: VIP, port: 80, up: minimal(`snat to ${node.ipv4}`), down: dropMinimal },
    };
    const paths = chosen.map((name) => all[name] as Path);
    const direct = all['direct'] as Path;
    client = startClient(lab.client.ns, concurrency, pin);
    // The CPU time of the client and the pods, which includes the kernel's work for their
    // packets on every hop (the softirqs run in the sending process's context, unless the
    // kernel defers them to ksoftirqd, whose time is counted apart).
    const ours = [client.pid, ...servers];
    const ksoftirqd = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && /^ksoftirqd\//.test(readOr(`/proc/${pid}/comm`))).map(Number);
    const conntrackCount = () => Number(lab.exec(node.ns, ['cat', '/proc/sys/net/netfilter/nf_conntrack_count']).stdout.trim() || 0);

    // Per mode, the measurements in the order they ran: direct, a path, direct, a path, ...,
    // direct. Each path's rate is compared with the direct rates just before and after it, so
    // the machine's load, which drifts over seconds on a shared machine, mostly cancels.
    const runs = new Map<string, Array<Measurement>>();
    for (let round = 1; round <= rounds; round++) {
      // The order of the paths turns each round, so that none always follows the same one.
      const order = paths.map((_, i) => paths[(i + round) % paths.length] as Path);
      for (const mode of modes) {
        const seq = runs.get(mode) ?? [];
        runs.set(mode, seq);
        for (const path of [direct, ...order.flatMap((p) => [p, direct])]) {
          await path.up();
          const cpu0 = runtimeNs(ours);
          const soft0 = runtimeNs(ksoftirqd);
          const r = await client.measure({ host: path.host, port: path.port, seconds, keepAlive: mode === 'keep-alive' });
          // Over every request, the warm-up's too: the CPU time is the whole measurement's.
          const cpuUs = (runtimeNs(ours) - cpu0) / 1000 / r.all;
          const softUs = (runtimeNs(ksoftirqd) - soft0) / 1000 / r.all;
          const conntrack = path === direct ? 0 : conntrackCount();
          await path.down();
          if (r.errors > 0) throw new Error(`${path.name}: ${r.errors} requests failed`);
          const rate = r.requests / r.seconds;
          seq.push({ path: path.name, rate, cpuUs, softUs, synRetrans: r.synRetrans, conntrack });
          note(`round ${round}: ${mode}: ${path.name}: ${rate.toFixed(0)} req/s${r.synRetrans > 0 ? `, ${r.synRetrans} SYNs sent again` : ''}`);
        }
      }
    }
    const timings = await changeTimings(node.ns, reps, tableSizes);

    say(`\n### HTTP requests/s from one client (node:http, ${concurrency} connections), ${rounds} rounds of ${seconds} s per path\n`);
    say(Object.entries(PATHS).filter(([name]) => name === 'direct' || chosen.includes(name)).map(([name, what]) => `- \`${name}\`: ${what}`).join('\n'));
    for (const mode of modes) report(mode === 'new' ? 'new connection per request' : 'keep-alive', runs.get(mode) ?? [], chosen);
    changeTable(reps, timings);
    say(`\n${machineLine()}`);
  } finally {
    client?.stop();
    lab.destroy();
  }
}

/** The change timings, per table size, from the changes role run in the node's namespace. */
async function changeTimings(ns: string, reps: number, tableSizes: string): Promise<Record<string, ChangeTimes>> {
  // With the daemon's V8 flags (the image's, or KEEPVIP_NODE_FLAGS): apply() runs in the daemon.
  const v8 = (process.env['KEEPVIP_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  note(`binding changes: ${reps} per table size (${tableSizes}), inside ${ns}, node flags "${v8.join(' ')}"`);
  return JSON.parse(await runRole(ns, ['--role', 'changes', '--changes', String(reps), '--sizes', tableSizes], v8)) as Record<string, ChangeTimes>;
}

function changeTable(reps: number, timings: Record<string, ChangeTimes>): void {
  say(`\n### Binding change (one binding's endpoint swapped, affinity on): apply() call to nftables updated, ${reps} changes\n`);
  say('| bindings installed | median | p90 | max | goal | apply() before nft, median / max |');
  say('|---:|---:|---:|---:|---|---:|');
  const ms = (v: number | undefined) => `${v?.toFixed(1)} ms`;
  for (const [size, times] of Object.entries(timings)) {
    const wall = [...times.wall].sort((a, b) => a - b);
    const js = [...times.js].sort((a, b) => a - b);
    say(`| ${size} | ${ms(percentile(wall, 50))} | ${ms(percentile(wall, 90))} | ${ms(wall.at(-1))} | < 100 ms | ${ms(percentile(js, 50))} / ${ms(js.at(-1))} |`);
  }
}

/**
 * One mode's table. Per path: its rate and its CPU time per request, each as a paired ratio:
 * the path's measurement over the geometric mean of the direct measurements either side of it
 * (median and quartiles across rounds, and the median's 95 % interval: whether a goal is shown
 * or not). The rate is what the goal asks for; the CPU time
 * per request hardly depends on how much of the machine other sessions take, so it says what
 * a path costs where the rate cannot. With `hop-ct` measured, each NAT path's rate ratio is
 * also divided by the hop's of the same round: what the NAT adds to the path any Kubernetes
 * node gives.
 */
function report(title: string, seq: readonly Measurement[], chosen: readonly string[]): void {
  const paired = (metric: (m: Measurement) => number) => {
    const out = new Map<string, number[]>();
    seq.forEach((m, i) => {
      const before = seq[i - 1];
      const after = seq[i + 1];
      const ratio = m.path === 'direct' || before === undefined || after === undefined ? 1 : metric(m) / Math.sqrt(metric(before) * metric(after));
      out.set(m.path, [...(out.get(m.path) ?? []), ratio]);
    });
    return out;
  };
  const values = (path: string, metric: (m: Measurement) => number) => seq.filter((m) => m.path === path).map(metric);
  const rateRatios = paired((m) => m.rate);
  const cpuRatios = paired((m) => m.cpuUs);
  const sorted = (v: readonly number[]) => [...v].sort((a, b) => a - b);
  const mid = (v: readonly number[], digits: number) => percentile(sorted(v), 50)?.toFixed(digits) ?? '–';
  const quartiles = (v: readonly number[], digits: number) => `${percentile(sorted(v), 25)?.toFixed(digits)}–${percentile(sorted(v), 75)?.toFixed(digits)}`;
  const interval = (v: readonly number[]) => {
    const ci = medianInterval(v);
    return ci === undefined ? 'too few rounds' : `${ci[0].toFixed(2)}–${ci[1].toFixed(2)}`;
  };
  const range = (v: readonly number[], digits: number) => `${Math.min(...v).toFixed(digits)}–${Math.max(...v).toFixed(digits)}`;
  // Same round: the k-th ratio of each path comes from the k-th round.
  const hop = rateRatios.get('hop-ct');
  say(`\n#### ${title}\n`);
  say(
    '| path | req/s: median (range) | req/s ÷ direct, paired: median (quartiles) | its median, 95 % interval | rounds >= 0.9 | ÷ hop-ct, same round | CPU µs per request: median | ÷ direct, paired: median (quartiles) | its median, 95 % interval | ksoftirqd µs per request | SYNs sent again |',
  );
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const name of ['direct', ...chosen]) {
    const rates = values(name, (m) => m.rate);
    const r = rateRatios.get(name) ?? [];
    const c = cpuRatios.get(name) ?? [];
    const isDirect = name === 'direct';
    const nat = hop !== undefined && (name.startsWith('vip') || name.startsWith('min'));
    const vsHop = r.map((v, k) => v / (hop?.[k] ?? NaN));
    const cells = [
      `\`${name}\``,
      `${mid(rates, 0)} (${range(rates, 0)})`,
      isDirect ? '1' : `${mid(r, 2)} (${quartiles(r, 2)})`,
      isDirect ? '' : interval(r),
      isDirect ? '' : `${r.filter((v) => v >= 0.9).length} / ${r.length}`,
      nat ? `${mid(vsHop, 2)} (${quartiles(vsHop, 2)})` : '',
      mid(values(name, (m) => m.cpuUs), 0),
      isDirect ? '1' : `${mid(c, 2)} (${quartiles(c, 2)})`,
      isDirect ? '' : interval(c),
      mid(values(name, (m) => m.softUs), 1),
      String(values(name, (m) => m.synRetrans).reduce((a, b) => a + b, 0)),
    ];
    say(`| ${cells.join(' | ')} |`);
  }
  say(`\nThe node's conntrack table held at most ${Math.max(0, ...seq.map((m) => m.conntrack))} connections after a measurement.`);
}

/**
 * A 95 % confidence interval of the median of `values`, from order statistics alone (no
 * assumption about the distribution): [x(k), x(n+1-k)] with the largest k for which
 * P(Binomial(n, 1/2) <= k - 1) <= 2.5 %. Undefined below 6 values, where no such k exists.
 */
function medianInterval(values: readonly number[]): [number, number] | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  let k = 0;
  let cdf = 0;
  let term = 0.5 ** n;
  for (let i = 0; i < n; i++) {
    cdf += term;
    if (cdf > 0.025) break;
    k = i + 1;
    term = (term * (n - i)) / (i + 1);
  }
  return k === 0 ? undefined : [sorted[k - 1] as number, sorted[n - k] as number];
}

function must(r: { code: number; stderr: string }): void {
  if (r.code !== 0) throw new Error(r.stderr);
}

// Last, once every constant above is defined.
const role = args.get('role');
if (role === 'server') await server();
else if (role === 'load') await load();
else if (role === 'changes') await changes();
else await main();
