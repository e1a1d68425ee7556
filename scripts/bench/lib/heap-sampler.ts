/**
 * Run inside a daemon's network namespace (`ip netns exec NS node heap-sampler.ts PORT SECONDS`):
 * connects to the daemon's inspector on 127.0.0.1:PORT, samples every allocation for SECONDS,
 * collected or not (V8's sampling heap profiler with the collected objects kept), and prints
 * JSON: bytes per second in all, and by the allocating function.
 */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

const [port = '9229', secondsText = '10'] = process.argv.slice(2);
const seconds = Number(secondsText);
const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
const url = targets[0]?.webSocketDebuggerUrl;
if (url === undefined) throw new Error(`no inspector target on port ${port}`);
const ws = new WebSocket(url);
await new Promise((resolve, reject) => {
  ws.addEventListener('open', resolve);
  ws.addEventListener('error', reject);
});
let nextId = 0;
const waiting = new Map<number, (result: unknown) => void>();
ws.addEventListener('message', (event) => {
  const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
  if (message.id !== undefined) waiting.get(message.id)?.(message.result);
});
const call = (method: string, params: object = {}): Promise<unknown> =>
  new Promise((resolve) => {
    const id = ++nextId;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

await call('HeapProfiler.enable');
await call('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const { profile } = (await call('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
ws.close();

const bySite = new Map<string, number>();
let total = 0;
const walk = (node: ProfileNode): void => {
  const f = node.callFrame;
  const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/.*\/(packages|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
  total += node.selfSize;
  if (node.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
  for (const child of node.children) walk(child);
};
walk(profile.head);
const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 15);
process.stdout.write(JSON.stringify({ bytesPerSecond: total / seconds, sites: top.map(([site, bytes]) => ({ site, bytesPerSecond: bytes / seconds })) }));
