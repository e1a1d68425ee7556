/**
 * Migration: the keepalived.conf of each node, converted by `keepvip import-keepalived`,
 * elects the same master under keepvip as it did under keepalived.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEEPVIP_CLI, signalDaemon, startKeepvip, type RunningDaemon } from '../../../../scripts/lab/daemons.ts';
import { Lab, LiveSet, stableHolder, stateOf, waitFor } from './helpers.js';

const VIP = '10.99.0.100';
let lab: Lab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
});

/** A keepalived.conf as operators write them: state MASTER on the wrong node, auth, a script. */
function keepalivedConf(name: string, state: 'MASTER' | 'BACKUP', priority: number, checkFile: string): string {
  return `! Configuration File for keepalived
global_defs {
   router_id ${name}
   enable_script_security
}
vrrp_script chk_ingress {
   script "/usr/bin/test -e ${checkFile}"
   interval 1
   weight -60
}
vrrp_instance VI_INGRESS {
    state ${state}
    interface eth0
    virtual_router_id 61
    priority ${priority}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    virtual_ipaddress {
        ${VIP}/24 dev eth0
    }
    track_script {
        chk_ingress
    }
}
`;
}

function startRawKeepalived(l: Lab, i: number, conf: string): RunningDaemon {
  const node = l.node(i);
  const base = join(l.dir, `${node.name}.ka`);
  writeFileSync(`${base}.conf`, conf);
  const child = l.spawn(node.ns, ['keepalived', '--dont-fork', '--log-console', '--vrrp', '--use-file', `${base}.conf`, '--pid', `${base}.pid`, '--vrrp_pid', `${base}.vrrp.pid`]);
  return { kind: 'keepalived', node, process: child, logFile: '', pids: () => (child.pid === undefined ? [] : [child.pid]) };
}

function importConf(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KEEPVIP_CLI, 'import-keepalived', file]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('keepvip import-keepalived', () => {
  it('the converted configurations elect the same master as keepalived did', async () => {
    const conf = (dir: string) => [
      // node1 says MASTER but has the lower priority: keepalived elects node2 regardless.
      keepalivedConf('node1', 'MASTER', 100, join(dir, 'ok')),
      keepalivedConf('node2', 'BACKUP', 150, join(dir, 'ok')),
    ];

    lab = Lab.create({ nodes: 2 });
    writeFileSync(join(lab.dir, 'ok'), '');
    const live = new LiveSet();
    const confs = conf(lab.dir);
    const kas = confs.map((c, i) => startRawKeepalived(lab as Lab, i, c));
    const keepalivedMaster = await stableHolder(lab, VIP, live, 3_000);
    for (const k of kas) signalDaemon(k, 'SIGKILL');
    lab.destroy();

    lab = Lab.create({ nodes: 2 });
    writeFileSync(join(lab.dir, 'ok'), '');
    const converted: string[] = [];
    for (const [i, text] of conf(lab.dir).entries()) {
      const file = join(lab.dir, `node${i + 1}.keepalived.conf`);
      writeFileSync(file, text);
      const result = await importConf(file);
      expect(result.code).toBe(0);
      converted.push(result.stdout);
    }
    expect(converted[0]).toContain('priority: 100');
    const daemons = converted.map((configText, i) => startKeepvip(lab as Lab, lab!.node(i), { configText }));
    const keepvipMaster = await stableHolder(lab, VIP, live, 3_000);
    expect(keepvipMaster).toBe(keepalivedMaster);
    expect(keepvipMaster).toBe('node2');
    await waitFor('the other to be Backup', () => stateOf(lab!, daemons[0] as RunningDaemon) === 'Backup', 5_000);
  });
});
