/**
 * The ingress demo (`./scripts/demo`) and its end-to-end test (packages/cli/test/e2e/
 * ingress-demo.test.ts) in one code path: a lab cluster of three nodes running `keepvip run
 * --kubernetes` as the DaemonSet's ServiceAccount, nginx in an ingress pod on node1 and node2
 * serving test.com (/reservation, /order) and event.com over HTTP and HTTPS to small apps in
 * pods on node3, the VIP from the ConfigMap entry `VIP: ingress/nginx`; a client browses by
 * host name through the VIP, the Master dies, and the client is served by the other ingress pod.
 *
 * Affinity, honestly: at the VIP, `sessionAffinity: ClientIP` (a client's new connections go
 * to the same ingress pod while the Master lives); at the ingress, nginx sets a random cookie
 * (`affinity`, its $request_id) on a first response and picks the app pod by a consistent
 * hash of it, so a browser keeps its app pod, through either ingress pod.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningDaemon } from './daemons.ts';
import { KEEPVIP_CLI, keepvipStatus, signalDaemon } from './daemons.ts';
import { LabCluster, type Pod } from './cluster.ts';
import type { LabNode } from './lab.ts';
import { eachLine, Wire } from './wire.ts';
import { TcpWire } from './tcp-wire.ts';
import { waitFor } from './prober.ts';
import { describeTimeline, failoverTimeline, type FailoverTimeline } from './failover-timeline.ts';
import type { Attempt } from './keep-alive-client.ts';
import { masterDownIntervalMs } from '../../packages/vrrp/dist/index.js';

const SUBNET = 8;
export const VIP = `10.99.${SUBNET}.100`;
const APPS = ['reservation', 'order', 'event'] as const;
type App = (typeof APPS)[number];

/** Where each host name and path goes (nginx's server and location blocks). */
export const ROUTES: readonly { readonly host: string; readonly path: string; readonly app: App }[] = [
  { host: 'test.com', path: '/reservation', app: 'reservation' },
  { host: 'test.com', path: '/order', app: 'order' },
  { host: 'event.com', path: '/', app: 'event' },
];

/** One answer of an app: `app=NAME pod=POD ingress=INGRESS-POD`. */
export interface Answer {
  readonly app: string;
  readonly pod: string;
  readonly ingress: string;
}

export interface Browse extends Answer {
  readonly url: string;
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly path: string;
}

export interface IngressDemoResult {
  readonly vip: string;
  /** The Master's NAT binding chains (`svc_<VIP>_<protocol>_<port>`) in its keepvip_nat table. */
  readonly natChains: readonly string[];
  /** The ingress pods the new Master's NAT binding sends to after the failover. */
  readonly boundAfter: readonly string[];
  /** Every route over HTTP and HTTPS, as the client got it through the VIP. */
  readonly browses: readonly Browse[];
  /** The cookie nginx set, and the reservation pods that answered each request carrying it. */
  readonly affinity: { readonly cookie: string; readonly pods: readonly string[]; readonly podsWithoutCookie: readonly string[] };
  readonly before: { readonly node: string; readonly ingress: string; readonly pod: string };
  readonly after: { readonly node: string; readonly ingress: string; readonly pod: string };
  /** Longest gap between answers around the Master's death, ms (client polling every ~20 ms). */
  readonly outageMs: number;
  readonly failedPolls: number;
  /** The keep-alive HTTP client, established before the Master's death. */
  readonly keepAlive: KeepAliveFailover;
  /** The same over HTTPS (a new connection after the crash is a new TLS handshake). */
  readonly keepAliveHttps: KeepAliveFailover;
  /** `keepvip status` of each node after the failover (the dead one: not answering). */
  readonly status: Readonly<Record<string, string>>;
  /** What the demo made, to check it is gone afterwards. */
  readonly made: { readonly namespaces: readonly string[]; readonly pids: readonly number[]; readonly dirs: readonly string[] };
}

/**
 * A keep-alive client across the Master's death (issue 12's figure: its first request after
 * the crash succeeds within Master_Down_Interval + 100 ms; the demo measures and reports it,
 * on the wire and from the client; scripts/bench/nat-cluster repeats it).
 */
export interface KeepAliveFailover {
  readonly scheme: 'http' | 'https';
  /** Its connection (1, 2, ... in the order opened) answering last before the crash, and how many it answered. */
  readonly connectionBefore: number;
  readonly answeredBefore: number;
  readonly ingressBefore: string;
  /** The first request sent after the crash that was answered: ms from the crash to its answer. */
  readonly firstAnsweredMs: number;
  /** Whether that answer came on a new connection (the old one broke with its node). */
  readonly newConnection: boolean;
  readonly ingressAfter: string;
  /** Requests sent after the crash that failed (timed out, reset) before that answer. */
  readonly failedRequests: number;
  /** Master_Down_Interval of the Backup with the highest priority before the crash, and + 100 ms. */
  readonly masterDownIntervalMs: number;
  readonly goalMs: number;
  /** The crash on the wire beside the client's times. */
  readonly timeline: FailoverTimeline;
}

/** argv: app, pod, and the lab's prefix (unused: it marks every process of the lab for a leftover check). */
const APP_SERVER = `
const [app, pod] = process.argv.slice(1);
require('node:http').createServer((q, s) => {
  s.setHeader('content-type', 'text/plain');
  s.end('app=' + app + ' pod=' + pod + ' ingress=' + (q.headers['x-ingress-pod'] ?? '-') + '\\n');
}).listen(8080, () => process.stdout.write('listening\\n'));`;

function nginxConfig(dir: string, ingress: Pod, apps: readonly Pod[]): string {
  const upstream = (app: App) =>
    `  upstream ${app} {\n    hash $affinity consistent;\n${apps.filter((p) => p.name.startsWith(`${app}-`)).map((p) => `    server ${p.ip}:8080;\n`).join('')}  }\n`;
  const tls = `    ssl_certificate ${dir}/tls.crt;\n    ssl_certificate_key ${dir}/tls.key;\n`;
  const base = join(dir, ingress.name);
  return `user root;
# One process (no master and workers): a SIGKILL, the lab's way to stop it, leaves nothing behind.
master_process off;
daemon off;
pid ${base}.pid;
error_log ${base}.error.log;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${base}.tmp/body;
  proxy_temp_path ${base}.tmp/proxy;
  fastcgi_temp_path ${base}.tmp/fastcgi;
  uwsgi_temp_path ${base}.tmp/uwsgi;
  scgi_temp_path ${base}.tmp/scgi;
  # Session affinity: a first response sets a random cookie; the app pod is a consistent hash
  # of it, the same in both ingress pods.
  map $cookie_affinity $affinity { "" $request_id; default $cookie_affinity; }
  map $cookie_affinity $set_affinity { "" "affinity=$request_id; Path=/; HttpOnly"; default ""; }
  add_header Set-Cookie $set_affinity;
  proxy_set_header X-Ingress-Pod ${ingress.name};
  proxy_connect_timeout 1s;
${APPS.map(upstream).join('')}  server {
    listen 80 default_server;
    listen 443 ssl default_server;
${tls}    return 404;
  }
  server {
    listen 80;
    listen 443 ssl;
    server_name test.com;
${tls}    location /reservation { proxy_pass http://reservation; }
    location /order { proxy_pass http://order; }
    location / { return 404; }
  }
  server {
    listen 80;
    listen 443 ssl;
    server_name event.com;
${tls}    location / { proxy_pass http://event; }
  }
}
`;
}

/** `app=… pod=… ingress=…` into its fields. */
export function parseAnswer(body: string): Answer | undefined {
  const m = /^app=(\S+) pod=(\S+) ingress=(\S+)$/.exec(body.trim());
  return m === null ? undefined : { app: m[1] as string, pod: m[2] as string, ingress: m[3] as string };
}

/**
 * The poller's loop: `every(get, options, everyMs)` sends one request with `get` (node:http's
 * or node:https's) every `everyMs` and prints one JSON line per request: when it was sent and
 * finished, its body or error.
 */
const EVERY = `
function every(get, options, everyMs) {
  const tick = () => {
    const sent = Date.now();
    let once = false;
    const done = (body, error) => {
      if (once) return;
      once = true;
      process.stdout.write(JSON.stringify({ sent, t: Date.now(), body, error }) + '\\n');
      setTimeout(tick, Math.max(0, Number(everyMs) - (Date.now() - sent)));
    };
    const req = get(options, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => done(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => done(undefined, e.code ?? e.message));
  };
  tick();
}`;

/**
 * The client's poller: one HTTPS request to test.com/reservation through the VIP every
 * `everyMs` on a new connection (as curl does), carrying the cookie.
 */
const POLLER = `${EVERY}
const [vip, source, cookie, everyMs] = process.argv.slice(1);
every(require('node:https').get, { host: vip, localAddress: source, servername: 'test.com', path: '/reservation', headers: { host: 'test.com', cookie }, rejectUnauthorized: false, agent: false, timeout: 500 }, everyMs);`;

/** The keep-alive client (its retry policy is described there). */
const KEEP_ALIVE_CLIENT = fileURLToPath(new URL('./keep-alive-client.ts', import.meta.url));
/** Its timeouts: 50 ms to connect (a SYN is answered by a kernel), 100 ms to answer once connected. */
const CONNECT_TIMEOUT_MS = 50;
const RESPONSE_TIMEOUT_MS = 100;

export interface IngressDemoOptions {
  /** A line for the reader (the demo prints it; the test keeps it for its failure message). */
  readonly say: (line: string) => void;
}

/** The whole story; everything it made is gone when it returns or throws. */
export async function runIngressDemo({ say }: IngressDemoOptions): Promise<IngressDemoResult> {
  const started = Date.now();
  say('starting a control plane (etcd, kube-apiserver) and a lab of 3 nodes and a client...');
  const cluster = await LabCluster.start({ nodes: 3, subnet: SUBNET });
  const { lab } = cluster;
  say(`  lab ${lab.prefix} (its namespaces are ${lab.prefix}-*), control plane in ${cluster.stateDir}`);
  const pids: number[] = [];
  const made = { namespaces: [] as string[], pids, dirs: [lab.dir, cluster.stateDir] };
  try {
    const [node1, node2, node3] = lab.nodes as [LabNode, LabNode, LabNode];
    // The apps: reservation twice (so the cookie has something to choose), order, event; on node3.
    const apps = [['reservation', 2], ['order', 1], ['event', 1]].flatMap(([app, n]) => Array.from({ length: n as number }, (_, i) => cluster.addPod(node3, `${app as string}-${i + 1}`)));
    const appUp = apps.map((pod) => {
      const child = cluster.spawnLogged(pod.ns, pod.name, [process.execPath, '-e', APP_SERVER, pod.name.replace(/-\d+$/, ''), pod.name, lab.prefix]);
      if (child.pid !== undefined) pids.push(child.pid);
      return new Promise<void>((resolve) => eachLine(child.stdout, (l) => l === 'listening' && resolve()));
    });
    // The ingress: nginx in a pod on node1 and one on node2, a self-signed certificate for both hosts.
    const tlsDir = join(lab.dir, 'tls');
    mkdirSync(tlsDir);
    const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test.com', '-addext', 'subjectAltName=DNS:test.com,DNS:event.com', '-keyout', join(tlsDir, 'tls.key'), '-out', join(tlsDir, 'tls.crt')], { encoding: 'utf8' });
    if (cert.status !== 0) throw new Error(`openssl req failed: ${cert.stderr}`);
    const ingresses = [cluster.addPod(node1, 'ingress-1'), cluster.addPod(node2, 'ingress-2')];
    for (const pod of ingresses) {
      for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(tlsDir, `${pod.name}.tmp`, t), { recursive: true });
      const conf = join(tlsDir, `${pod.name}.nginx.conf`);
      writeFileSync(conf, nginxConfig(tlsDir, pod, apps));
      const child = cluster.spawnLogged(pod.ns, pod.name, ['nginx', '-c', conf, '-e', join(tlsDir, `${pod.name}.error.log`)]);
      if (child.pid !== undefined) pids.push(child.pid);
    }
    made.namespaces.push(...lab.nodes.map((n) => n.ns), lab.client.ns, ...cluster.pods.map((p) => p.ns));
    await Promise.all(appUp);
    say(`  apps on node3: ${apps.map((p) => `${p.name} ${p.ip}`).join(', ')}`);
    say(`  nginx ingress pods: ${ingresses.map((p) => `${p.name} ${p.ip} on ${p.node.name}`).join(', ')} (HTTP and HTTPS, self-signed certificate for test.com and event.com)`);

    // The cluster's objects: the ingress Service (ClientIP affinity), its EndpointSlice (there is
    // no controller-manager: the demo writes it as the EndpointSlice controller would), the ConfigMap.
    const endpointSlice = (ready: (p: Pod) => boolean) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'nginx-lab', namespace: 'ingress', labels: { 'kubernetes.io/service-name': 'nginx', 'endpointslice.kubernetes.io/managed-by': 'lab.keepvip.io' } },
      addressType: 'IPv4',
      endpoints: ingresses.map((p) => ({ addresses: [p.ip], conditions: { ready: ready(p), serving: ready(p), terminating: false }, nodeName: p.node.name, targetRef: { kind: 'Pod', namespace: 'ingress', name: p.name } })),
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'https', port: 443, protocol: 'TCP' }],
    });
    await cluster.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ingress' } },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'nginx', namespace: 'ingress' },
        spec: {
          type: 'ClusterIP',
          sessionAffinity: 'ClientIP',
          ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }, { name: 'https', port: 443, targetPort: 443, protocol: 'TCP' }],
        },
      },
      endpointSlice(() => true),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keepvip-vips', namespace: 'keepvip-system' }, data: { [VIP]: 'ingress/nginx' } },
    ]);
    say(`  ConfigMap keepvip-system/keepvip-vips: "${VIP}: ingress/nginx" (Service ingress/nginx: ClusterIP, sessionAffinity ClientIP, ports 80 and 443)`);

    const kubeconfig = await cluster.tokenKubeconfig('keepvip', 'keepvip-system');
    const daemons = new Map<string, RunningDaemon>();
    for (const node of lab.nodes) {
      const d = cluster.startKeepvip(node, kubeconfig, ['--advert-interval', '100ms']);
      daemons.set(node.name, d);
      pids.push(...d.pids());
    }
    say('  keepvip run --kubernetes on node1..3, as ServiceAccount keepvip-system/keepvip (daemonset/rbac.yaml), advert interval 100 ms');
    say(`  (the first ${((Date.now() - started) / 1000).toFixed(1)} s: control plane, lab, pods)`);

    // Settled: every node has the instance (the first one up is Master alone for a moment),
    // exactly one is Master and holds the VIP, and it is a node with an ingress pod.
    const settledHolder = () => {
      const h = lab.holders(VIP);
      const states = lab.nodes.map((n) => keepvipStatus(lab, daemons.get(n.name) as RunningDaemon)?.instances[0]?.state);
      const settled = states.filter((st) => st === 'Master').length === 1 && states.filter((st) => st === 'Backup').length === lab.nodes.length - 1;
      return settled && h.length === 1 && ingresses.some((p) => p.node.name === h[0]) ? h[0] : undefined;
    };
    const what = `one node with an ingress pod to hold ${VIP}, the others Backup`;
    let holder = await waitFor(what, settledHolder, 30_000, 100);
    // For 1 s (three Master_Down_Intervals): a node that started late is Backup for one
    // Master_Down_Interval before it preempts a Master of lower priority.
    for (let since = Date.now(); Date.now() - since < 1_000; await new Promise((resolve) => setTimeout(resolve, 100))) {
      if (settledHolder() === holder) continue;
      holder = await waitFor(what, settledHolder, 30_000, 100);
      since = Date.now();
    }
    say(`\n${holder} is Master for ${VIP} (a node with a ready ingress pod)`);
    // The forwarding is keepvip's own (no kube-proxy runs): the Master's NAT binding table.
    const natChains = await waitFor(`${holder}'s keepvip_nat table to bind ${VIP}:80 and :443`, () => {
      const r = lab.exec((lab.nodes.find((n) => n.name === holder) as LabNode).ns, ['nft', 'list', 'table', 'inet', 'keepvip_nat']);
      const chains = [...r.stdout.matchAll(/^\s*chain (svc_\S+) \{/gm)].map((m) => m[1] as string);
      return chains.length >= 2 ? chains : undefined;
    }, 10_000, 100).catch((error: unknown) => {
      const log = readFileSync((daemons.get(holder) as RunningDaemon).logFile, 'utf8').trimEnd().split('\n').slice(-12).join('\n');
      throw new Error(`${String(error)}; ${holder}'s keepvip log ends:\n${log}`, { cause: error });
    });
    say(`  its nftables table inet keepvip_nat (the NAT binding, ClientIP affinity; no kube-proxy runs): ${natChains.join(', ')}`);

    // Browsing, as a user would with curl.
    let source = lab.client.ipv4;
    const curl = (scheme: 'http' | 'https', host: string, path: string, cookie?: string) => {
      const port = scheme === 'http' ? 80 : 443;
      const args = ['curl', '-sS', '-k', '--max-time', '3', '--interface', source, '-D', '-', '--resolve', `${host}:${port}:${VIP}`, ...(cookie === undefined ? [] : ['-b', cookie]), `${scheme}://${host}${path}`];
      const r = lab.exec(lab.client.ns, args);
      const [head = '', body = ''] = r.stdout.split(/\r\n\r\n/);
      const setCookie = /^set-cookie: (affinity=[0-9a-f]+)/im.exec(head)?.[1];
      return { args, answer: parseAnswer(body), setCookie, error: r.code === 0 ? undefined : r.stderr.trim() };
    };
    const browses: Browse[] = [];
    await waitFor('the client to be answered through the VIP', () => curl('https', 'test.com', '/reservation').answer, 20_000, 200);
    // ClientIP affinity picks the ingress pod at random for each client address: the client
    // browses from the first of a few addresses that the Master sends to its own ingress pod,
    // so the Master's death takes both the VIP's node and the client's ingress pod.
    const masterIngress = ingresses.find((p) => p.node.name === holder) as Pod;
    const candidates = Array.from({ length: 8 }, (_, i) => `10.99.${SUBNET}.${20 + i}`);
    for (const a of candidates) lab.exec(lab.client.ns, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    const chosen = candidates.find((a) => {
      source = a;
      return curl('https', 'test.com', '/reservation').answer?.ingress === masterIngress.name;
    });
    if (chosen === undefined) throw new Error(`none of the client's addresses ${candidates.join(', ')} was sent to ${masterIngress.name} (ClientIP affinity is random: run again)`);
    source = chosen;
    say(`\nthe client (${source}, its affinity at the VIP on ${masterIngress.name}) browses through the VIP:`);
    for (const scheme of ['http', 'https'] as const) {
      for (const { host, path } of ROUTES) {
        const r = curl(scheme, host, path);
        if (r.answer === undefined) throw new Error(`${scheme}://${host}${path} through ${VIP}: no answer (${r.error ?? 'unexpected body'})`);
        const url = `${scheme}://${host}${path}`;
        browses.push({ url, scheme, host, path, ...r.answer });
        say(`  ${url.padEnd(30)} -> ${r.answer.app.padEnd(12)} (pod ${r.answer.pod}, via ${r.answer.ingress})`);
      }
    }
    say(`  (each: ${curl('https', 'test.com', '/reservation').args.slice(1).join(' ')})`);

    const first = curl('https', 'test.com', '/reservation');
    const cookie = first.setCookie;
    if (cookie === undefined) throw new Error('nginx set no affinity cookie');
    const pods = Array.from({ length: 6 }, () => curl('https', 'test.com', '/reservation', cookie).answer?.pod ?? '-');
    const podsWithoutCookie = Array.from({ length: 12 }, () => curl('https', 'test.com', '/reservation').answer?.pod ?? '-');
    say(`\ncookie affinity at the ingress: nginx set ${cookie.slice(0, 18)}…; 6 requests with it: ${[...new Set(pods)].join(', ')}; 12 without a cookie: ${[...new Set(podsWithoutCookie)].sort().join(', ')}`);

    // The client polls every 20 ms with its cookie, the Master dies.
    const poller = cluster.spawnLogged(lab.client.ns, 'poller', [process.execPath, '-e', POLLER, VIP, source, cookie, '20', lab.prefix]);
    if (poller.pid !== undefined) pids.push(poller.pid);
    const polls: { t: number; answer: Answer | undefined; error?: string }[] = [];
    eachLine(poller.stdout, (line) => {
      const p = JSON.parse(line) as { t: number; body?: string; error?: string };
      polls.push({ t: p.t, answer: p.body === undefined ? undefined : parseAnswer(p.body), ...(p.error === undefined ? {} : { error: p.error }) });
    });
    // Beside it, keep-alive clients over HTTP and HTTPS, established before the crash, and
    // tcpdump on the switch for the adverts and gratuitous ARPs (the crash's timeline).
    const wire = new Wire(lab, { ns: lab.switchNs, iface: 'br0', vip: VIP });
    // Resets from the VIP to the client: which node refused or reset a connection, and when.
    const resets = new TcpWire(lab, { ns: lab.switchNs, iface: 'br0', filter: `tcp and src host ${VIP} and tcp[tcpflags] & tcp-rst != 0` });
    await Promise.all([wire.ready(), resets.ready()]);
    const keepAliveRuns = (['http', 'https'] as const).map((scheme) => {
      const child = cluster.spawnLogged(lab.client.ns, `keep-alive-${scheme}`, [
        process.execPath, KEEP_ALIVE_CLIENT, '--vip', VIP, '--scheme', scheme, '--host', 'test.com', '--path', '/reservation', '--source', source, '--cookie', cookie,
        '--every', '20', '--connect-timeout', String(CONNECT_TIMEOUT_MS), '--response-timeout', String(RESPONSE_TIMEOUT_MS), '--lab', lab.prefix,
      ]);
      if (child.pid !== undefined) pids.push(child.pid);
      const attempts: Attempt[] = [];
      eachLine(child.stdout, (line) => attempts.push(JSON.parse(line) as Attempt));
      return { scheme, child, attempts };
    });
    await waitFor('the poller to be answered', () => polls.filter((p) => p.answer !== undefined).length >= 25, 10_000);
    // Counted on its latest connection: on a loaded machine a request can time out, and the
    // client then opens a new connection, which must itself be kept alive before the crash.
    const answeredOnLatest = (attempts: readonly Attempt[]): number => {
      const latest = attempts.at(-1)?.connection;
      return attempts.filter((q) => q.status === 200 && q.connection === latest).length;
    };
    for (const run of keepAliveRuns) await waitFor(`the keep-alive ${run.scheme} client to be answered on one connection`, () => answeredOnLatest(run.attempts) >= 25, 20_000);
    const lastBefore = [...polls].reverse().find((p) => p.answer !== undefined)?.answer as Answer;
    const master = lab.nodes.find((n) => n.name === holder) as LabNode;
    const before = { node: master.name, ingress: lastBefore.ingress, pod: lastBefore.pod };
    say(`\nbefore: ${before.node} is Master; the client is answered by ${before.ingress} (app pod ${before.pod})`);

    // The Backup with the highest priority is the first whose Master_Down_Timer runs out.
    const backupPriority = Math.max(...lab.nodes.filter((n) => n !== master).map((n) => keepvipStatus(lab, daemons.get(n.name) as RunningDaemon)?.instances[0]?.priority ?? 0));
    const mdiMs = masterDownIntervalMs({ version: 3, priority: backupPriority, masterAdverIntervalCs: 10, downTimerAdverts: 3 });
    say(`  keep-alive clients: http:// and https://test.com/reservation every 20 ms on one kept-alive connection each; a new connection not connected in ${CONNECT_TIMEOUT_MS} ms, or a request not answered ${RESPONSE_TIMEOUT_MS} ms after, is given up and sent again at once on a new connection`);
    // What the surviving nodes' NAT tables do with the dead node's ingress pod: a new Master
    // that still binds it sends some new connections to a pod that cannot answer.
    const deadIngress = ingresses.find((p) => p.node === master) as Pod;
    const deadEndpoint: Array<{ t: number; node: string; line: string }> = [];
    const monitors = lab.nodes.filter((n) => n !== master).map((node) => {
      const child = lab.spawn(node.ns, ['nft', 'monitor', 'ruleset']);
      eachLine(child.stdout, (line) => line.includes(`_${deadIngress.ip}_`) && deadEndpoint.push({ t: Date.now(), node: node.name, line }));
      return child;
    });
    const killedAt = Date.now();
    signalDaemon(daemons.get(master.name) as RunningDaemon, 'SIGKILL');
    lab.setCable(master, false);
    // Requests sent from here on cannot reach the dead node (before the cut its NAT still worked).
    const cutAt = Date.now();
    // Its ingress pod dies with it, and stays ready in the EndpointSlice: in a cluster the API
    // server marks it not ready only after node-monitor-grace-period (40-50 s). The new Master
    // leaves out the pods of the node whose adverts stopped.
    say(`${master.name} dies: keepvip SIGKILLed and its cable cut; its ingress pod with it (still ready in the EndpointSlice: nothing tells the API server)`);

    const next = await waitFor(`another node to hold ${VIP}`, () => lab.holders(VIP).find((h) => h !== master.name), 15_000);
    await waitFor('the client to be answered again', () => polls.some((p) => p.t > killedAt && p.answer !== undefined && p.answer.ingress !== before.ingress) && polls.slice(-10).every((p) => p.answer !== undefined), 20_000);
    for (const run of keepAliveRuns) await waitFor(`the keep-alive ${run.scheme} client to be answered again`, () => run.attempts.some((q) => q.sent >= cutAt && q.status === 200), 20_000);
    poller.kill('SIGKILL');
    for (const run of keepAliveRuns) run.child.kill('SIGKILL');
    // The new Master's adverts after the takeover (another may have advertised for a moment).
    await new Promise((resolve) => setTimeout(resolve, 200));
    await Promise.all([wire.stop(), resets.stop()]);
    for (const m of monitors) m.kill('SIGKILL');
    const added = deadEndpoint.filter((e) => e.node === next && /^add /.test(e.line)).at(0);
    const deleted = deadEndpoint.filter((e) => e.node === next && /^delete /.test(e.line)).at(0);
    if (added !== undefined) say(`  ${next}, the new Master, bound VIP:port to the dead ${deadIngress.name} too (${added.t - killedAt} ms after the crash) until ${deleted === undefined ? 'the end' : `${deleted.t - killedAt} ms after it`}: a new connection it sent there was lost`);
    const holderAfter = lab.holders(VIP).find((h) => h !== master.name) ?? next;
    const table = lab.exec((lab.nodes.find((n) => n.name === holderAfter) as LabNode).ns, ['nft', 'list', 'table', 'inet', 'keepvip_nat']).stdout;
    const boundAfter = ingresses.filter((p) => table.includes(` to ${p.ip}:`)).map((p) => p.name);
    say(`${holderAfter} took over on Master_Down_Timer: its NAT binding leaves out ${masterIngress.name}, on the node whose adverts stopped, and sends to ${boundAfter.join(', ')}`);
    const [keepAlive, keepAliveHttps] = keepAliveRuns.map((run) => keepAliveFailover({ ...run, frames: wire.frames, deadMac: master.mac, killedAt, cutAt, masterDownIntervalMs: mdiMs, names: Object.fromEntries(lab.nodes.map((n) => [n.mac, n.name])) })) as [KeepAliveFailover, KeepAliveFailover];
    const answered = polls.filter((p) => p.answer !== undefined);
    let outageMs = 0;
    for (let i = 1; i < answered.length; i++) {
      const a = answered[i - 1] as (typeof answered)[number];
      const b = answered[i] as (typeof answered)[number];
      if (b.t >= killedAt) outageMs = Math.max(outageMs, b.t - a.t);
    }
    const lastAfter = answered[answered.length - 1]?.answer as Answer;
    const after = { node: next, ingress: lastAfter.ingress, pod: lastAfter.pod };
    const failedPolls = polls.filter((p) => p.t >= killedAt && p.answer === undefined).length;
    say(`after:  ${after.node} is Master; the client is answered by ${after.ingress} (app pod ${after.pod}: the cookie kept it)`);
    say(`outage the client saw: ${outageMs} ms (longest gap between answers, polling every 20 ms on new HTTPS connections; ${failedPolls} polls failed)`);
    say(`keep-alive clients, the crash on the wire (tcpdump on the switch) beside their times (Master_Down_Interval: 3 x 100 ms adverts + skew for priority ${backupPriority}):`);
    say(`  ${describeTimeline(keepAlive.timeline)[0] ?? ''}`);
    for (const k of [keepAlive, keepAliveHttps]) for (const line of describeTimeline(k.timeline).slice(1)) say(`  ${k.scheme}: ${line}`);
    const nodeOf = (mac: string) => lab.nodes.find((n) => n.mac === mac)?.name ?? mac;
    const resetText = resets.segments.filter((r) => r.t > killedAt && r.t <= Math.max(keepAlive.timeline.firstAnswer.t, keepAliveHttps.timeline.firstAnswer.t)).map((r) => `+${Math.round(r.t - keepAlive.timeline.lastAdvert.t)} ${nodeOf(r.srcMac)} (:${r.sport}, flags ${r.flags})`);
    if (resetText.length > 0) say(`  resets from the VIP to the client before those answers, ms after the last advert: ${resetText.join(', ')}`);

    const status: Record<string, string> = {};
    say('\nkeepvip status per node:');
    for (const node of lab.nodes) {
      const d = daemons.get(node.name) as RunningDaemon;
      const r = lab.exec(node.ns, [process.execPath, KEEPVIP_CLI, 'status', '--timeout', '2s', '--socket', d.socket as string]);
      const text = r.code === 0 ? r.stdout.trimEnd() : `not answering (killed): ${r.stderr.trim()}`;
      status[node.name] = text;
      say(`  ${node.name}:`);
      for (const line of text.split('\n')) say(`    ${line}`);
    }
    for (const d of daemons.values()) if (d.node !== master) signalDaemon(d, 'SIGTERM');
    return { vip: VIP, natChains, boundAfter, browses, affinity: { cookie, pods, podsWithoutCookie }, before, after, outageMs, failedPolls, keepAlive, keepAliveHttps, status, made };
  } finally {
    cluster.stop();
  }
}

/** A keep-alive client's attempts across the crash, with the wire's timeline. */
function keepAliveFailover(o: {
  readonly scheme: 'http' | 'https';
  readonly attempts: readonly Attempt[];
  readonly frames: Wire['frames'];
  readonly deadMac: string;
  readonly killedAt: number;
  readonly cutAt: number;
  readonly masterDownIntervalMs: number;
  readonly names: Readonly<Record<string, string>>;
}): KeepAliveFailover {
  const { scheme, attempts, killedAt } = o;
  const timeline = failoverTimeline(o);
  if (typeof timeline === 'string') throw new Error(`the keep-alive ${scheme} client's failover: ${timeline}`);
  const last = attempts.filter((a) => a.status === 200 && a.t < killedAt).at(-1);
  if (last === undefined) throw new Error(`the keep-alive ${scheme} client was not answered before the crash`);
  const first = timeline.firstAnswer;
  return {
    scheme,
    connectionBefore: last.connection ?? 0,
    answeredBefore: attempts.filter((a) => a.status === 200 && a.t < killedAt && a.connection === last.connection).length,
    ingressBefore: parseAnswer(last.body ?? '')?.ingress ?? '-',
    firstAnsweredMs: Math.round(timeline.crashToAnswerMs),
    newConnection: first.connection !== last.connection,
    ingressAfter: parseAnswer(first.body ?? '')?.ingress ?? '-',
    failedRequests: Object.values(timeline.failures).reduce((n, k) => n + k, 0),
    masterDownIntervalMs: Math.round(o.masterDownIntervalMs),
    goalMs: Math.round(o.masterDownIntervalMs) + 100,
    timeline,
  };
}
