/**
 * Hostile and mistaken input against real daemons in the namespace lab: garbage on the
 * control socket, a second daemon on a node, clients whose daemon stalls or dies. A Master at
 * priority 150 and a Backup at 100: the Backup staying Backup proves the Master's adverts kept
 * coming on the wire.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { KEEPVIP_CLI, startKeepvip, type VrrpGroup } from '../../../../scripts/lab/daemons.ts';
import { exited, keepvipStatus, Lab, LiveSet, oneHolder, signalDaemon, sleep, stateOf, waitFor, type RunningDaemon } from './helpers.js';

const VIP = '10.99.0.100';
const group: VrrpGroup = { vrid: 51, version: 3, advertIntervalMs: 100, vips: [`${VIP}/24`] };

let lab: Lab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
});

/** Raw bytes to a control socket; what comes back before the daemon closes the connection. */
function sendRaw(socket: string, bytes: string | Uint8Array): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = createConnection(socket);
    let text = '';
    connection.setEncoding('utf8');
    connection.on('data', (chunk: string) => (text += chunk));
    connection.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    connection.on('close', () => resolve(text));
    connection.write(bytes);
  });
}

/** A seeded byte generator (xorshift32): the same "binary garbage" every run. */
function seededBytes(seed: number, length: number): Uint8Array {
  let x = seed >>> 0 || 1;
  return Uint8Array.from({ length }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) & 0xff;
  });
}

/** A CLI command run outside the namespaces (the socket is a file): its exit code and output. */
function cliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [KEEPVIP_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

async function masterAndBackup(l: Lab, args: string[] = []): Promise<[RunningDaemon, RunningDaemon]> {
  const master = startKeepvip(l, l.node(0), { priority: 150, group }, { args });
  const backup = startKeepvip(l, l.node(1), { priority: 100, group });
  await oneHolder(l, VIP, new LiveSet(), 15_000, 'node1');
  await waitFor('the Backup', () => stateOf(l, backup) === 'Backup', 10_000);
  return [master, backup];
}

describe('hostile input in the namespace lab', () => {
  it('garbage on the control socket gets error replies; the Master survives and keeps advertising', async () => {
    lab = Lab.create({ nodes: 2 });
    const [master, backup] = await masterAndBackup(lab, ['--control-timeout', '300ms']);
    const socket = master.socket as string;
    const backupTransitions = keepvipStatus(lab, backup)?.instances[0]?.transitions;
    const error = (text: string): unknown => {
      try {
        return JSON.parse(text.trim());
      } catch {
        return `no JSON reply: ${JSON.stringify(text)} (daemon ${master.process.exitCode === null ? 'running' : 'gone'})`;
      }
    };
    const inputs: Array<[string, string | Uint8Array, string]> = [
      ['null', 'null\n', 'request must be a JSON object such as {"command":"status"}, not null'],
      ['an array', '[]\n', 'request must be a JSON object such as {"command":"status"}, not an array'],
      ['an array holding a request', '[{"command":"status"}]\n', 'request must be a JSON object such as {"command":"status"}, not an array'],
      ['a number', '7\n', 'request must be a JSON object such as {"command":"status"}, not a number'],
      ['command null', '{"command":null}\n', '"command" must be a string, not null'],
      ['an unknown command', '{"command":"shutdown"}\n', 'unknown command "shutdown" (one of status, reload, watch)'],
      ['an extra member', '{"command":"reload","file":"/etc/shadow"}\n', 'unknown member "file" in the request (it takes only "command")'],
      ['not JSON', 'status\n', 'request is not JSON (send one line such as {"command":"status"})'],
      ['an empty line', '\n', 'request is not JSON (send one line such as {"command":"status"})'],
      ['binary (seeded random bytes, then a newline)', Buffer.concat([seededBytes(9, 512).map((b) => (b === 0x0a ? 0 : b)), Buffer.from('\n')]), 'request is not JSON (send one line such as {"command":"status"})'],
      ['a 1 MiB line without a newline', 'x'.repeat(1 << 20), 'request line longer than 4096 bytes'],
      ['a 64 KiB JSON line', `{"command":"${'a'.repeat(1 << 16)}"}\n`, 'request line longer than 4096 bytes'],
      ['half a line, then idle', '{"command":"sta', 'no request line within 300 ms'],
      ['nothing, idle', '', 'no request line within 300 ms'],
    ];
    for (const [name, bytes, expected] of inputs) {
      const reply = await sendRaw(socket, bytes);
      expect([name, error(reply)]).toEqual([name, { ok: false, error: expected }]);
      expect(master.process.exitCode).toBeNull();
    }
    // 80 connections at once (the limit is 64): the excess are closed unanswered, the rest
    // time out. (More than 64 may be served if the first ones end before the last arrive.)
    const many = await Promise.all(Array.from({ length: 80 }, () => sendRaw(socket, '')));
    const served = many.filter((r) => r.includes('no request line within 300 ms')).length;
    const refused = many.filter((r) => r === '').length;
    expect([served + refused, served >= 64, refused >= 1]).toEqual([80, true, true]);

    // Still the Master, still answering, and still advertising: the Backup never took over.
    await sleep(1_000); // > Master_Down_Interval (3 x 100 ms + Skew_Time)
    expect(master.process.exitCode).toBeNull();
    expect(keepvipStatus(lab, master)?.instances[0]).toMatchObject({ state: 'Master', transitions: 2 });
    expect(keepvipStatus(lab, backup)?.instances[0]).toMatchObject({ state: 'Backup', transitions: backupTransitions });
    expect(lab.holders(VIP)).toEqual(['node1']);
  });

  it('a second daemon is refused before it touches anything; a SIGKILLed one does not block the next start', async () => {
    lab = Lab.create({ nodes: 3 });
    const [first, backup] = await masterAndBackup(lab);
    const node = lab.node(0);
    const socket = first.socket as string;
    const configFile = join(lab.dir, 'node1.keepvip.yaml');
    const run = async (ns: string, args: string[]) => {
      const child = lab!.spawn(ns, [process.execPath, KEEPVIP_CLI, 'run', '--config', configFile, ...args]);
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      // A second daemon that is not refused would run on: stop it and let the checks tell.
      const running = setTimeout(() => child.kill('SIGTERM'), 15_000);
      const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
      clearTimeout(running);
      return { code, stderr };
    };

    // The default node lock is keyed by the node's network namespace.
    const nodeLock = `/run/keepvip/netns-${statSync(`/run/netns/${node.ns}`).ino}.lock`;
    expect(readFileSync(nodeLock, 'utf8')).toBe(`${first.process.pid}\n`);

    // The same config on the same node (the operator's mistake), then with its own socket.
    for (const args of [['--socket', socket], ['--socket', join(lab.dir, 'second.sock')]]) {
      const second = await run(node.ns, args);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`cannot start: another keepvip daemon (PID ${first.process.pid}) runs on this node`);
      expect(second.stderr).not.toContain('removed stale VIPs');
    }
    // Another node (network namespace) on the same control socket.
    const third = await run(lab.node(2).ns, ['--socket', socket]);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain(`cannot start: another keepvip daemon (PID ${first.process.pid}) listens on the control socket ${socket}`);

    // The first kept its VIP, its socket and its state; nothing was reconciled back.
    expect(existsSync(socket)).toBe(true);
    expect(keepvipStatus(lab, first)?.instances[0]).toMatchObject({ state: 'Master', transitions: 2 });
    expect(stateOf(lab, backup)).toBe('Backup');
    expect(lab.holders(VIP)).toEqual(['node1']);
    expect(readFileSync(first.logFile, 'utf8')).not.toContain('reconciled VIPs');

    // SIGKILL leaves the VIP (as keepalived would) but not the lock: the next start runs.
    signalDaemon(first, 'SIGKILL');
    await exited(first);
    const restarted = startKeepvip(lab, node, { priority: 150, group });
    await waitFor('the restarted daemon to be Master', () => stateOf(lab!, restarted) === 'Master', 15_000);
    expect(readFileSync(restarted.logFile, 'utf8')).not.toContain('cannot start');
    expect(readFileSync(nodeLock, 'utf8')).toBe(`${restarted.process.pid}\n`);
    // A clean exit removes the lock files.
    signalDaemon(restarted, 'SIGTERM');
    expect(await exited(restarted)).toBe(0);
    expect([existsSync(nodeLock), existsSync(`${socket}.lock`)]).toEqual([false, false]);
  });

  it('status and reload fail with a message when the daemon stalls, or dies before answering', async () => {
    lab = Lab.create({ nodes: 1 });
    const node = lab.node(0);
    // The takeover starts a master hook that runs on; a reload that restarts the instance (a
    // new VRID) waits for its hooks after taking its VIP away, so the daemon is held in the
    // reload, the request read, until the test kills it.
    const hookPid = join(lab.dir, 'master-hook.pid');
    const config = (vrid: number) =>
      [
        'global:',
        `  statusSocket: ${join(lab!.dir, 'node1.sock')}`,
        'instances:',
        `  - { name: vi_1, interface: eth0, vrid: ${vrid}, priority: 150, advertInterval: 100ms, vips: ["${VIP}/24"],`,
        `      notify: { master: "echo $$ > ${hookPid}; exec sleep 60", timeout: 60s } }`,
        '',
      ].join('\n');
    /** The hook's PID once it has written it (not an empty file being written). */
    const runningHook = () => {
      const pid = existsSync(hookPid) ? Number(readFileSync(hookPid, 'utf8').trim()) : 0;
      return Number.isInteger(pid) && pid > 1 ? pid : undefined;
    };
    const daemon = startKeepvip(lab, node, { configText: config(51) });
    const socket = daemon.socket as string;
    await waitFor('Master', () => stateOf(lab!, daemon) === 'Master', 10_000);
    const hook = await waitFor('the master hook', runningHook, 10_000);

    let reload;
    try {
      writeFileSync(join(lab.dir, 'node1.keepvip.yaml'), config(52));
      const reloading = cliAsync(['reload', '--socket', socket]);
      await waitFor('the reload to take the VIP away (it now waits for the hook)', () => !lab!.addresses(node.ns).includes(VIP), 10_000);
      signalDaemon(daemon, 'SIGKILL');
      reload = await reloading;
    } finally {
      process.kill(hook, 'SIGKILL'); // not a child of the lab's: it would outlive the test
    }
    expect(reload).toMatchObject({ code: 1, stdout: '', stderr: `keepvip reload: the daemon on ${socket} closed the connection without answering (did it stop?)\n` });
    const gone = await cliAsync(['status', '--socket', socket]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^keepvip status: no keepvip daemon answers on /);

    // A stalled daemon (stopped): the clients time out.
    rmSync(hookPid);
    const stalled = startKeepvip(lab, node, { configText: config(51) });
    await waitFor('Master again', () => stateOf(lab!, stalled) === 'Master', 10_000);
    const secondHook = await waitFor('the master hook again', runningHook, 10_000);
    process.kill(secondHook, 'SIGKILL');
    signalDaemon(stalled, 'SIGSTOP');
    const status = await cliAsync(['status', '--socket', socket, '--timeout', '500ms']);
    expect(status).toMatchObject({ code: 1, stderr: `keepvip status: the daemon on ${socket} did not answer within 500 ms\n` });
    const stalledReload = await cliAsync(['reload', '--socket', socket, '--timeout', '500ms']);
    expect(stalledReload).toMatchObject({ code: 1, stderr: `keepvip reload: the daemon on ${socket} did not answer within 500 ms\n` });
    signalDaemon(stalled, 'SIGKILL');
  });
});
