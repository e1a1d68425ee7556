/**
 * scripts/ci/install-system-packages on machines that have none, some or all of its packages,
 * with or without a policy-rc.d of their own. dpkg-query and apt-get are stand-ins on PATH
 * that keep the "installed" set in a file, so the script runs for real without touching apt.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../../scripts/ci/install-system-packages', import.meta.url));
const PACKAGES = ['keepalived', 'nftables', 'iproute2', 'tcpdump', 'iputils-ping', 'arping', 'etcd-server', 'build-essential', 'python3', 'procps', 'nginx-light', 'openssl', 'curl'];
/** What the script may use from the machine besides the stand-ins (bash builtins aside). */
const TOOLS = ['grep', 'id', 'rm', 'chmod'];

const DPKG_QUERY = `#!/bin/bash
# dpkg-query -W -f=FORMAT PACKAGE: installed when listed in $FAKE_STATE/installed.
p="\${!#}"
if grep -qx "$p" "$FAKE_STATE/installed" 2>/dev/null; then printf 'install ok installed'; exit 0; fi
echo "dpkg-query: no packages found matching $p" >&2; exit 1
`;

const APT_GET = `#!/bin/bash
# Records each call; "install" records the policy file as it is then and marks its packages
# installed (except those in $FAKE_APT_SKIP), or fails with $FAKE_APT_STATUS.
echo "$*" >> "$FAKE_STATE/calls"
[ "$1" = update ] && exit 0
if [ -e "$KEEPVIP_POLICY_RC_D" ]; then
  { printf 'exists '; [ -x "$KEEPVIP_POLICY_RC_D" ] && printf 'executable '; printf '%s\\n' "$(<"$KEEPVIP_POLICY_RC_D")"; } > "$FAKE_STATE/policy-at-install"
fi
[ -n "\${FAKE_APT_STATUS:-}" ] && exit "$FAKE_APT_STATUS"
for a in "$@"; do
  case "$a" in install|-*) ;; *) [[ " \${FAKE_APT_SKIP:-} " = *" $a "* ]] || echo "$a" >> "$FAKE_STATE/installed" ;; esac
done
`;

interface Machine {
  readonly dir: string;
  readonly state: string;
  readonly policy: string;
}

interface Run {
  readonly status: number | null;
  readonly stderr: string;
  readonly calls: string[];
  readonly policyAtInstall: string | undefined;
}

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keepvip-install-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A machine with the stand-ins, the listed packages installed, npm on PATH or not, and who we are (id -u). */
function machine(options: { installed?: readonly string[]; npm?: boolean; uid?: number } = {}): Machine {
  const bin = join(dir, 'bin');
  const state = join(dir, 'state');
  mkdirSync(bin);
  mkdirSync(state);
  const tool = (name: string, text: string) => {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  };
  tool('dpkg-query', DPKG_QUERY);
  tool('apt-get', APT_GET);
  if (options.npm ?? true) tool('npm', '#!/bin/bash\nexit 0\n');
  if (options.uid !== undefined) tool('id', `#!/bin/bash\necho ${options.uid}\n`);
  for (const t of TOOLS) {
    if (t === 'id' && options.uid !== undefined) continue;
    const real = spawnSync('bash', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(real, join(bin, t));
  }
  writeFileSync(join(state, 'installed'), (options.installed ?? []).map((p) => `${p}\n`).join(''));
  return { dir, state, policy: join(dir, 'policy-rc.d') };
}

function install(m: Machine, env: Record<string, string> = {}): Run {
  const r = spawnSync('/bin/bash', [SCRIPT], {
    encoding: 'utf8',
    env: { PATH: join(m.dir, 'bin'), FAKE_STATE: m.state, KEEPVIP_POLICY_RC_D: m.policy, ...env },
  });
  const read = (name: string) => (existsSync(join(m.state, name)) ? readFileSync(join(m.state, name), 'utf8') : undefined);
  return {
    status: r.status,
    stderr: r.stderr,
    calls: (read('calls') ?? '').split('\n').filter((l) => l !== ''),
    policyAtInstall: read('policy-at-install'),
  };
}

describe('install-system-packages', () => {
  it('on a machine with nothing: says what is missing, installs all of it with a policy that stops services, removes that policy, exits 0', () => {
    const m = machine();
    const run = install(m);
    expect(run).toMatchObject({ status: 0 });
    expect(run.calls).toEqual(['update -qq', `install -y -qq ${PACKAGES.join(' ')}`]);
    expect(run.policyAtInstall).toMatch(/^exists executable #!\/bin\/sh\n[^]*exit 101\n$/);
    expect(existsSync(m.policy)).toBe(false);
    expect(run.stderr).toContain(`[packages] missing 13 of 13: ${PACKAGES.join(' ')}`);
    expect(run.stderr).toContain(`[packages] installing ${PACKAGES.join(' ')}`);
    expect(run.stderr).toMatch(/\[packages\] done: installed 13 packages in \d+ s\n$/);
  });

  it("leaves the machine's own policy-rc.d exactly as it was, and still exits 0", () => {
    const m = machine();
    const own = '#!/bin/sh\n# the image owner\'s\nexit 101\n';
    writeFileSync(m.policy, own, { mode: 0o750 });
    const run = install(m);
    expect(run.status).toBe(0);
    expect(run.calls).toEqual(['update -qq', `install -y -qq ${PACKAGES.join(' ')}`]);
    expect(run.policyAtInstall).toBe(`exists executable ${own}`);
    expect(readFileSync(m.policy, 'utf8')).toBe(own);
    expect(statSync(m.policy).mode & 0o777).toBe(0o750);
    expect(run.stderr).toContain(`keeping the machine's ${m.policy}`);
  });

  it('installs only what is missing', () => {
    const m = machine({ installed: PACKAGES.filter((p) => p !== 'tcpdump' && p !== 'arping') });
    const run = install(m);
    expect(run.status).toBe(0);
    expect(run.calls).toEqual(['update -qq', 'install -y -qq tcpdump arping']);
    expect(run.stderr).toContain('[packages] missing 2 of 13: tcpdump arping');
  });

  it('with everything present: calls no apt-get, says so, exits 0', () => {
    const m = machine({ installed: PACKAGES });
    const run = install(m);
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([]);
    expect(run.stderr).toBe('[packages] all 13 system packages present\n');
  });

  it("asks Debian for npm only when the machine has no npm command (scripts/toolchain.sh needs one)", () => {
    const m = machine({ installed: PACKAGES, npm: false });
    const run = install(m);
    expect(run.status).toBe(0);
    expect(run.calls).toEqual(['update -qq', 'install -y -qq npm']);
  });

  it('a failed apt-get install: non-zero, and the policy it wrote is gone', () => {
    const m = machine();
    const run = install(m, { FAKE_APT_STATUS: '100' });
    expect(run.status).toBe(100);
    expect(run.policyAtInstall).toContain('exit 101');
    expect(existsSync(m.policy)).toBe(false);
    expect(run.stderr).not.toContain('done');
  });

  it('a package dpkg still does not list after a successful apt-get is named, and the install stands', () => {
    const m = machine();
    const run = install(m, { FAKE_APT_SKIP: 'keepalived' });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('[packages] WARNING: apt-get install succeeded but dpkg-query does not list as installed: keepalived');
    expect(existsSync(m.policy)).toBe(false);
  });

  it('not root with packages missing: names them, says to run as root, touches nothing', () => {
    const m = machine({ installed: PACKAGES.filter((p) => p !== 'keepalived'), uid: 1000 });
    const run = install(m);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('[packages] missing 1 of 13: keepalived\n[packages] ERROR: installing them needs root; run again as root (or: apt-get install keepalived)\n');
    expect(run.calls).toEqual([]);
    expect(existsSync(m.policy)).toBe(false);
  });

  it('without dpkg-query or apt-get (not Debian): a clear error, not a silent status', () => {
    const m = machine();
    const run = spawnSync('/bin/bash', [SCRIPT], { encoding: 'utf8', env: { PATH: join(m.dir, 'nowhere') } });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^\[packages\] ERROR: dpkg-query or apt-get not found: this script installs Debian packages \(needed: keepalived .* npm\)\n$/);
  });
});
