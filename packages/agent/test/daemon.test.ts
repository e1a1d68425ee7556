/** The process shell around apply: reloads of the file, global fields, the runtime API beside the file. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon, validateConfig, type ResolvedInstance } from '../src/index.js';
import { captureLogger, FakeDataPlane, ManualClock } from './fake-data-plane.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'keepvip-daemon-'));
  dirs.push(dir);
  const file = join(dir, 'keepvip.yaml');
  const write = (instances: string[], global: string[] = []) =>
    writeFileSync(file, ['global:', `  statusSocket: ${join(dir, 'k.sock')}`, ...global.map((g) => `  ${g}`), 'instances:', ...instances, ''].join('\n'));
  const instance = (name: string, vrid: number, ifname = 'eth0') => `  - { name: ${name}, interface: ${ifname}, vrid: ${vrid}, advertInterval: 100ms, vips: ["10.0.0.${vrid}/24"] }`;
  const dp = new FakeDataPlane();
  const { logger, lines } = captureLogger();
  const daemon = new Daemon({ configFile: file, dataPlane: dp, clock: new ManualClock(), logger });
  return { dir, file, write, instance, dp, lines, daemon };
}

describe('Daemon', () => {
  it('starts with an instance that cannot start: the others run, the failure is in status and the report', async () => {
    const s = setup();
    s.write([s.instance('a', 51), s.instance('b', 52, 'nope')]);
    const report = await s.daemon.start();
    expect(report.ok && report.instances.map((r) => [r.name, r.outcome])).toEqual([
      ['a', 'added'],
      ['b', 'failed'],
    ]);
    expect(s.daemon.status().instances.map((i) => i.name)).toEqual(['a']);
    expect(s.daemon.status().failed).toEqual([expect.objectContaining({ name: 'b', code: 'ENODEV' })]);
    await s.daemon.shutdown();
  });

  it('reload applies the file; a changed statusSocket is refused whole, naming the field', async () => {
    const s = setup();
    s.write([s.instance('a', 51)]);
    await s.daemon.start();
    writeFileSync(s.file, `global:\n  statusSocket: ${join(s.dir, 'other.sock')}\ninstances:\n${s.instance('a', 51)}\n${s.instance('b', 52)}\n`);
    const refused = await s.daemon.reload();
    expect(refused).toEqual({ ok: false, errors: [expect.stringMatching(/^global\.statusSocket: .* takes a restart/)] });
    expect(s.daemon.status().instances.map((i) => i.name)).toEqual(['a']);
    s.write([s.instance('a', 51), s.instance('b', 52)], ['reconcileInterval: 2s', 'log: { level: debug }']);
    const applied = await s.daemon.reload();
    expect(applied).toEqual({
      ok: true,
      instances: [
        { name: 'a', source: 'file', outcome: 'unchanged' },
        { name: 'b', source: 'file', outcome: 'added' },
      ],
      global: [
        { field: 'global.log', outcome: 'failed', reason: 'the logger was given by the program running the daemon' },
        { field: 'global.reconcileInterval', outcome: 'applied' },
      ],
    });
    await s.daemon.shutdown();
  });

  it('the runtime API runs beside the file: its instances add to the file’s, the file is not its to change', async () => {
    const s = setup();
    s.write([s.instance('a', 51)]);
    await s.daemon.start();
    const r = validateConfig({ instances: [{ name: 'k', interface: 'eth0', vrid: 70, vips: ['10.0.0.70/24'] }] });
    if (!r.ok) throw new Error('spec');
    const transitions: string[] = [];
    s.daemon.onTransition((e) => transitions.push(`${e.instance} ${e.source} ${e.from}->${e.to}`));
    const report = await s.daemon.apply(r.config.instances as ResolvedInstance[]);
    expect(report.ok && report.instances.map((i) => [i.name, i.source, i.outcome])).toEqual([
      ['a', 'file', 'unchanged'],
      ['k', 'controller', 'added'],
    ]);
    expect(transitions).toEqual(['k controller Initialize->Backup']);
    expect(await s.daemon.apply([], 'file')).toMatchObject({ ok: false });
    // A reload of the file leaves the controller's instance alone.
    s.write([s.instance('a', 51)]);
    const reload = await s.daemon.reload();
    expect(reload.ok && reload.instances.map((i) => [i.name, i.outcome])).toEqual([
      ['a', 'unchanged'],
      ['k', 'unchanged'],
    ]);
    await s.daemon.shutdown();
    expect(await s.daemon.apply([])).toMatchObject({ ok: false, errors: ['the daemon is stopping: nothing more is applied'] });
  });

  it('reloads asked while one runs: answered, and the file as it is last is applied', async () => {
    const s = setup();
    s.write([s.instance('a', 51)]);
    await s.daemon.start();
    s.write([s.instance('a', 51), s.instance('b', 52)]);
    const first = s.daemon.reload();
    s.write([s.instance('a', 51), s.instance('c', 53)]);
    const later = [s.daemon.reload(), s.daemon.reload(), s.daemon.reload()];
    await Promise.all([first, ...later]);
    expect(s.daemon.status().instances.map((i) => i.name)).toEqual(['a', 'c']);
    await s.daemon.shutdown();
  });

  it('a stop asked during the start waits for it, then stops everything it started', async () => {
    const s = setup();
    s.write([s.instance('a', 51, 'eth0')]);
    const starting = s.daemon.start();
    const stopping = s.daemon.shutdown();
    await starting;
    await stopping;
    expect(s.daemon.status().instances).toEqual([]);
    expect(s.dp.openChannels()).toEqual([]);
    expect(existsSync(join(s.dir, 'k.sock'))).toBe(false);
    expect(s.dp.calls.at(-1)).toBe('close data plane');
  });

  it('metricsListen (--metrics-listen) serves metrics with no config file, and wins over the file’s address at start and on reload', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keepvip-daemon-'));
    dirs.push(dir);
    const { logger, lines } = captureLogger();
    const served = () => lines.filter((l) => String(l.message).startsWith('metrics and health on')).map((l) => Number(l.port));
    const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // No file at all (keepvip run --kubernetes without -c), the controller's counters beside the daemon's.
    const counters = { reconciles: 7, reconcileErrors: 0, applies: 1, planSecondsSum: 0, rejectedEntries: 0, apiErrors: new Map(), watchEvents: new Map(), relists: new Map() };
    const bare = new Daemon({ dataPlane: new FakeDataPlane(), clock: new ManualClock(), logger, statusSocket: join(dir, 'bare.sock'), metricsListen: '127.0.0.1:0', controllerMetrics: counters });
    await bare.start();
    const [port] = served();
    expect(port).toBeGreaterThan(0);
    expect((await scrape(port as number)).split('\n')).toContain('keepvip_controller_reconciles_total 7');
    await bare.shutdown();

    // A file with its own address: the flag's is the one served, and a reload changing the file's moves nothing.
    const s = setup();
    s.write([s.instance('a', 51)], ['metrics: { listen: "127.0.0.1:1" }']);
    const flagged = new Daemon({ configFile: s.file, dataPlane: s.dp, clock: new ManualClock(), logger, metricsListen: '127.0.0.1:0' });
    await flagged.start();
    const [, filePort] = served();
    expect(filePort).not.toBe(1);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'global.metrics.listen "127.0.0.1:1" is not used: the command line\'s "127.0.0.1:0" wins' }));
    expect(await scrape(filePort as number)).toContain('keepvip_instance_state{');
    s.write([s.instance('a', 51)], ['metrics: { listen: "127.0.0.1:2" }']);
    expect(await flagged.reload()).toEqual({ ok: true, instances: [{ name: 'a', source: 'file', outcome: 'unchanged' }], global: [] });
    expect(served()).toHaveLength(2);
    expect(await scrape(filePort as number)).toContain('keepvip_instance_state{');
    await flagged.shutdown();
  });
});
