/**
 * What operators rely on, end to end in the lab: tracking, sync groups, notify hooks,
 * reload, metrics and health, status --watch.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEEPVIP_CLI, startKeepvip, type RunningDaemon } from '../../../../scripts/lab/daemons.ts';
import { exited, Lab, LiveSet, oneHolder, signalDaemon, sleep, stateOf, waitFor, keepvipStatus } from './helpers.js';

const VIP = '10.99.0.100';
let lab: Lab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
});

interface InstanceYaml {
  name?: string;
  vrid?: number;
  priority: number;
  vip?: string;
  extra?: string[];
}

function configText(l: Lab, node: string, instances: InstanceYaml[], global: string[] = []): string {
  return [
    'global:',
    `  statusSocket: ${join(l.dir, `${node}.sock`)}`,
    '  log: { format: json, level: debug }',
    ...global.map((g) => `  ${g}`),
    'instances:',
    ...instances.flatMap((i) => [
      `  - name: ${i.name ?? 'vi_1'}`,
      '    interface: eth0',
      `    vrid: ${i.vrid ?? 51}`,
      `    priority: ${i.priority}`,
      '    advertInterval: 100ms',
      `    vips: ["${i.vip ?? VIP}/24"]`,
      ...(i.extra ?? []).map((e) => `    ${e}`),
    ]),
    '',
  ].join('\n');
}

function cli(l: Lab, ns: string, args: string[]): { code: number; stdout: string; stderr: string } {
  return l.exec(ns, [process.execPath, KEEPVIP_CLI, ...args]);
}

describe('operations in the namespace lab', () => {
  it('a tracked file lowers the priority and moves the master; clearing it moves it back', async () => {
    lab = Lab.create({ nodes: 2 });
    const live = new LiveSet();
    const file = join(lab.dir, 'weight');
    writeFileSync(file, '0\n');
    startKeepvip(lab, lab.node(0), { configText: configText(lab, 'node1', [{ priority: 150, extra: [`track: { files: [{ path: "${file}", weight: -100 }] }`] }]) });
    startKeepvip(lab, lab.node(1), { configText: configText(lab, 'node2', [{ priority: 100 }]) });
    await oneHolder(lab, VIP, live, 10_000, 'node1');
    writeFileSync(file, '1\n'); // 150 - 100 = 50 < 100: node2 preempts
    await oneHolder(lab, VIP, live, 10_000, 'node2');
    writeFileSync(file, '0\n');
    await oneHolder(lab, VIP, live, 10_000, 'node1');
  });

  it('a failing track script without weight puts its instance and its sync group in Fault', async () => {
    lab = Lab.create({ nodes: 1 });
    const flag = join(lab.dir, 'healthy');
    writeFileSync(flag, '');
    const text = configText(
      lab,
      'node1',
      [
        { name: 'web', vrid: 1, priority: 100, vip: '10.99.0.101', extra: [`track: { scripts: [{ name: chk, command: "test -e ${flag}", interval: 100ms, fall: 2, rise: 1 }] }`] },
        { name: 'db', vrid: 2, priority: 100, vip: '10.99.0.102' },
      ],
    ).concat('syncGroups:\n  - { name: pair, instances: [web, db] }\n');
    const d = startKeepvip(lab, lab.node(0), { configText: text });
    const states = () => keepvipStatus(lab!, d)?.instances.map((i) => i.state).join(',');
    await waitFor('both Master', () => states() === 'Master,Master', 10_000);
    rmSync(flag);
    await waitFor('both in Fault', () => states() === 'Fault,Fault', 5_000);
    expect(lab.addresses(lab.node(0).ns)).not.toContain('10.99.0.101');
    expect(lab.addresses(lab.node(0).ns)).not.toContain('10.99.0.102');
    const db = keepvipStatus(lab, d)?.instances.find((i) => i.name === 'db') as { faults?: string[] } | undefined;
    expect(db?.faults?.[0]).toMatch(/sync group pair: web: track script chk is failing/);
    writeFileSync(flag, '');
    await waitFor('both Master again', () => states() === 'Master,Master', 5_000);
  });

  it('notify hooks receive keepalived’s arguments', async () => {
    lab = Lab.create({ nodes: 1 });
    const out = join(lab.dir, 'notified');
    const hook = join(lab.dir, 'hook.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$@" >> ${out}\n`, { mode: 0o755 });
    const d = startKeepvip(lab, lab.node(0), { configText: configText(lab, 'node1', [{ priority: 120, extra: [`notify: { any: ${hook}, master: "echo master-hook >> ${out}" }`] }]) });
    await waitFor('Master', () => stateOf(lab!, d) === 'Master', 10_000);
    await waitFor('the hooks to run', () => readFileSync(out, 'utf8').split('\n').filter(Boolean).length >= 3, 5_000);
    expect(readFileSync(out, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['INSTANCE vi_1 BACKUP 120', 'INSTANCE vi_1 MASTER 120', 'master-hook'].sort());
  });

  it('reload: an unchanged instance keeps its state with no transition and no GARP; a new one starts; a bad file changes nothing', async () => {
    lab = Lab.create({ nodes: 1 });
    const node = lab.node(0);
    const first = configText(lab, 'node1', [{ priority: 120, extra: ['announce: { delay: 0s }'] }]);
    const d = startKeepvip(lab, node, { configText: first });
    await waitFor('Master', () => stateOf(lab!, d) === 'Master', 10_000);
    await sleep(500); // past the takeover burst
    // Watch the wire for any ARP from the node while we reload.
    const capture = lab.spawn(lab.switchNs, ['tcpdump', '-l', '-n', '-e', '-i', 'br0', 'arp']);
    let arp = '';
    capture.stdout?.setEncoding('utf8');
    capture.stdout?.on('data', (chunk: string) => (arp += chunk));
    await sleep(1_000);
    const configFile = join(lab.dir, 'node1.keepvip.yaml');
    writeFileSync(configFile, configText(lab, 'node1', [{ priority: 120, extra: ['announce: { delay: 0s }'] }, { name: 'vi_2', vrid: 52, priority: 120, vip: '10.99.0.110' }]));
    const reload = cli(lab, node.ns, ['reload', '--socket', d.socket as string]);
    expect(reload).toMatchObject({ code: 0, stdout: 'vi_1: unchanged\nvi_2: added\n' });
    await waitFor('vi_2 to be Master', () => keepvipStatus(lab!, d)?.instances.find((i) => i.name === 'vi_2')?.state === 'Master', 10_000);
    await sleep(500);
    if (capture.pid !== undefined) process.kill(capture.pid, 'SIGKILL');
    const vi1 = keepvipStatus(lab, d)?.instances.find((i) => i.name === 'vi_1');
    expect(vi1).toMatchObject({ state: 'Master', transitions: 2 });
    // GARPs went out for the new VIP only: the unchanged instance announced nothing.
    expect(arp).toContain('10.99.0.110');
    expect(arp).not.toContain(`${VIP} `);

    writeFileSync(configFile, 'instances:\n  - name: vi_1\n    vrid: 999\n');
    const bad = cli(lab, node.ns, ['reload', '--socket', d.socket as string]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('instances[0].vrid: 999 is out of range 1..255');
    expect(keepvipStatus(lab, d)?.instances.map((i) => [i.name, i.state])).toEqual([
      ['vi_1', 'Master'],
      ['vi_2', 'Master'],
    ]);
    expect(lab.addresses(node.ns)).toEqual(expect.arrayContaining([VIP, '10.99.0.110']));
  });

  it('serves Prometheus metrics and a health check that fails when a Master lacks its VIP', async () => {
    lab = Lab.create({ nodes: 1 });
    const node = lab.node(0);
    const d: RunningDaemon = startKeepvip(lab, node, { configText: configText(lab, 'node1', [{ priority: 120 }], ['metrics: { listen: "127.0.0.1:9650" }', 'reconcileInterval: 60s']) });
    await waitFor('Master', () => stateOf(lab!, d) === 'Master', 10_000);
    const get = (path: string) => {
      const r = lab!.exec(node.ns, [process.execPath, '-e', `fetch('http://127.0.0.1:9650${path}').then(async (r) => { process.stdout.write(r.status + '\\n' + (await r.text())); })`]);
      const [status = '', ...body] = r.stdout.split('\n');
      return { status: Number(status), body: body.join('\n') };
    };
    const metrics = get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('keepvip_instance_state{instance="vi_1",interface="eth0",vrid="51",state="Master"} 1');
    expect(metrics.body).toMatch(/keepvip_adverts_sent_total\{instance="vi_1",interface="eth0",vrid="51"\} [1-9]/);
    expect(metrics.body).toMatch(/keepvip_announcements_sent_total\{interface="eth0",kind="arp"\} [1-9]/);
    expect(metrics.body).toContain('keepvip_process_resident_memory_bytes');
    expect(get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    lab.exec(node.ns, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
    const unhealthy = get('/healthz');
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body).toContain('vi_1 is Master but eth0 lacks 10.99.0.100/24');
  });

  it('SIGTERM exits only once a slow reader has taken every log line, the last one included', async () => {
    lab = Lab.create({ nodes: 1 });
    const node = lab.node(0);
    // 150 instances log ~100 KB at start: more than a pipe holds, so the daemon's writes queue.
    const instances = Array.from({ length: 150 }, (_, i) =>
      `  - { name: vi_${i + 1}, interface: eth0, vrid: ${i + 1}, priority: 120, advertInterval: 100ms, vips: ["10.99.1.${i + 1}/32"] }`);
    const file = join(lab.dir, 'many.yaml');
    writeFileSync(file, ['global:', '  log: { format: json, level: debug }', 'instances:', ...instances, ''].join('\n'));
    const daemon = lab.spawn(node.ns, [process.execPath, KEEPVIP_CLI, 'run', '--config', file, '--socket', join(lab.dir, 'many.sock')]);
    const exit = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
    // Nobody reads stderr yet: the pipe fills and stays full.
    await waitFor('150 VIPs', () => lab!.addresses(node.ns).filter((a) => a.startsWith('10.99.1.')).length === 150, 20_000);
    daemon.kill('SIGTERM');
    await sleep(500);
    let text = '';
    daemon.stderr?.setEncoding('utf8');
    daemon.stderr?.on('data', (chunk: string) => (text += chunk));
    expect(await exit).toBe(0);
    await sleep(200);
    const messages = text.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { message: string }).message);
    expect(messages.length).toBeGreaterThan(300);
    expect(messages.at(-1)).toBe('keepvip stopped');
  });

  it('status --watch prints a new status on every transition', async () => {
    lab = Lab.create({ nodes: 1 });
    const node = lab.node(0);
    const d = startKeepvip(lab, node, { configText: configText(lab, 'node1', [{ priority: 120 }]) });
    await waitFor('Master', () => stateOf(lab!, d) === 'Master', 10_000);
    const watcher = spawn(process.execPath, [KEEPVIP_CLI, 'status', '--watch', '--json', '--socket', d.socket as string]);
    let lines: string[] = [];
    watcher.stdout.setEncoding('utf8');
    watcher.stdout.on('data', (chunk: string) => (lines = lines.concat(chunk.split('\n').filter(Boolean))));
    try {
      await waitFor('the first status', () => lines.length === 1, 5_000);
      expect(lines[0]).toContain('"state":"Master"');
      lab.setCable(node, false); // carrier loss: Master -> Fault
      await waitFor('a Fault line', () => lines.some((l) => l.includes('"state":"Fault"')), 5_000);
    } finally {
      watcher.kill('SIGKILL');
    }
  });

  it('Accept_Mode off drops traffic to the VIP (ARP still answered); on, the default, accepts it; the filter goes at exit', async () => {
    lab = Lab.create({ nodes: 1 });
    const node = lab.node(0);
    const d = startKeepvip(lab, node, {
      configText: configText(lab, 'node1', [
        { name: 'strict', vrid: 1, priority: 120, vip: '10.99.0.101', extra: ['acceptMode: false'] },
        { name: 'open', vrid: 2, priority: 120, vip: '10.99.0.102' },
      ]),
    });
    await waitFor('both Master', () => keepvipStatus(lab!, d)?.instances.every((i) => i.state === 'Master') === true, 10_000);
    const ping = (vip: string) => lab!.exec(lab!.client.ns, ['ping', '-c', '2', '-i', '0.2', '-W', '1', vip]).code;
    expect(ping('10.99.0.102')).toBe(0);
    expect(ping('10.99.0.101')).not.toBe(0);
    expect(lab.neighbourMac(lab.client.ns, '10.99.0.101')).toBe(node.mac);
    expect(lab.exec(node.ns, ['nft', 'list', 'set', 'inet', 'keepvip', 'noaccept4']).stdout).toContain('10.99.0.101');
    signalDaemon(d, 'SIGTERM');
    expect(await exited(d)).toBe(0);
    expect(lab.exec(node.ns, ['nft', 'list', 'tables']).stdout).not.toContain('keepvip');
  });
});

