/** `./scripts/demo`: the ingress demo (scripts/lab/ingress-demo.ts), told to the terminal. */
import { runIngressDemo } from './ingress-demo.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);
const started = Date.now();
const r = await runIngressDemo({ say });
say(`\nsummary: ${r.browses.length} browses by host name and path reached their app over HTTP and HTTPS through ${r.vip};`);
say(`  the affinity cookie kept the client on ${[...new Set(r.affinity.pods)].join(', ')};`);
say(`  ${r.before.node} died: the client went from ${r.before.ingress} (via ${r.before.node}) to ${r.after.ingress} (via ${r.after.node}) after a ${r.outageMs} ms outage;`);
const t = r.keepAlive.timeline;
say(`  the new Master's first advert came ${Math.round(t.takeoverMs)} ms after the dead one's last (Master_Down_Interval ${r.keepAlive.masterDownIntervalMs} ms);`);
for (const k of [r.keepAlive, r.keepAliveHttps]) {
  const verdict = (ms: number) => `${Math.round(ms)} ms ${ms <= k.goalMs ? '<=' : '>'} ${k.goalMs} ms`;
  say(`  a keep-alive ${k.scheme.toUpperCase()} client's first request after the crash was answered ${verdict(k.timeline.crashToAnswerMs)} (Master_Down_Interval + 100 ms) after the crash${k.newConnection ? ' on a new connection' : ''}, ${verdict(k.timeline.lastAdvertToAnswerMs)} after the last advert (a crash just after it);`);
}
say(`  everything the demo made is removed (${((Date.now() - started) / 1000).toFixed(0)} s in all).`);
