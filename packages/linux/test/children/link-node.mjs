// Watches one interface's carrier inside a namespace; prints the initial state, the
// interface facts from lookupInterface, and every carrier event until SIGTERM.
import { LinkWatcher, lookupInterface } from '../../dist/index.js';

const c = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const watcher = new LinkWatcher({ ifname: c.ifname });
watcher.on('carrier', (s) => out({ event: 'carrier', ...s }));
watcher.on('watchError', (e) => out({ event: 'watchError', message: e.message }));
const initial = await watcher.start();
const info = await lookupInterface(c.ifname);
out({ event: 'ready', initial, info: { ...info, macBytes: undefined } });
process.on('SIGTERM', () => {
  watcher.stop();
  process.stdout.write('', () => process.exit(0));
});
