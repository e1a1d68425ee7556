/** `./scripts/demo`: the ingress demo (scripts/lab/ingress-demo.ts), told to the terminal. */
import { runIngressDemo } from './ingress-demo.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);
const started = Date.now();
const r = await runIngressDemo({ say });
say(`\nsummary: ${r.browses.length} browses by host name and path reached their app over HTTP and HTTPS through ${r.vip};`);
say(`  the affinity cookie kept the client on ${[...new Set(r.affinity.pods)].join(', ')};`);
say(`  ${r.before.node} died: the client went from ${r.before.ingress} (via ${r.before.node}) to ${r.after.ingress} (via ${r.after.node}) after a ${r.outageMs} ms outage;`);
say(`  a keep-alive HTTP client's first request after the crash was answered in ${r.keepAlive.firstAnsweredMs} ms${r.keepAlive.newConnection ? ' on a new connection' : ''} (Master_Down_Interval + 100 ms: ${r.keepAlive.goalMs} ms);`);
say(`  everything the demo made is removed (${((Date.now() - started) / 1000).toFixed(0)} s in all).`);
