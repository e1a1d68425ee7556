/**
 * scripts/kube/build says up front how long a first build takes and reports its progress while
 * it runs. A stand-in go (GO=...) "compiles" a few packages slowly and writes small binaries,
 * so the script runs for real in seconds, into a scratch KEEPVIP_KUBE_BIN.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../../scripts/kube/build', import.meta.url));

const FAKE_GO = `#!/bin/bash
# go version | go build -v ... -o OUT PACKAGE: prints 4 package names on stderr 0.5 s apart,
# then writes OUT; fails instead for the binary named in $FAKE_GO_FAIL.
echo "$*" >> "$FAKE_GO_CALLS"
[ "$1" = version ] && { echo "go version go1.26.8 linux/amd64"; exit 0; }
out=""; prev=""
for a in "$@"; do [ "$prev" = -o ] && out="$a"; prev="$a"; done
name="\${out##*/}"
for i in 1 2 3 4; do echo "example.com/$name/pkg$i" >&2; sleep 0.5; done
if [ "$name" = "\${FAKE_GO_FAIL:-}" ]; then echo "compile: $name/pkg5: undefined: everything" >&2; exit 2; fi
printf '#!/bin/sh\\necho "%s fake version"\\n' "$name" > "$out"
chmod +x "$out"
`;

let dir = '';
let bins = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keepvip-kube-build-test-'));
  bins = join(dir, 'bins');
  writeFileSync(join(dir, 'go'), FAKE_GO);
  chmodSync(join(dir, 'go'), 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function build(env: Record<string, string> = {}): { status: number | null; stderr: string; goCalls: string[] } {
  const calls = join(dir, 'go-calls');
  const r = spawnSync('bash', [SCRIPT], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GO: join(dir, 'go'),
      FAKE_GO_CALLS: calls,
      KEEPVIP_KUBE_BIN: join(bins, 'k8s'),
      KEEPVIP_KUBE_PROGRESS_S: '1',
      ...env,
    },
  });
  const goCalls = existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter((l) => l !== '') : [];
  rmSync(calls, { force: true });
  return { status: r.status, stderr: r.stderr, goCalls };
}

describe('scripts/kube/build', () => {
  it('says how long the first build takes, which binary it builds, and how far it is every few seconds', () => {
    const run = build();
    expect(run.status).toBe(0);
    const lines = run.stderr.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    expect(at(/^\[kube\] the first build takes about 6 minutes on 2 cores/)).toBe(1);
    const steps = ['etcd', 'kube-apiserver', 'kubectl', 'kube-proxy'].map((name, i) => at(new RegExp(`^\\[kube\\] building ${name} \\(step ${i + 1}/4, \\d+ s so far\\)$`)));
    expect(steps.every((s) => s > 1)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    // A progress line inside the kube-apiserver step, counting what go build -v said.
    const tick = at(/^\[kube\] {3}kube-apiserver: \d+ s, [1-4] packages compiled, last example\.com\/kube-apiserver\/pkg[1-4], \d+ s in all$/);
    expect(tick).toBeGreaterThan(steps[1] ?? Infinity);
    expect(tick).toBeLessThan(steps[2] ?? -1);
    expect(lines).toContain('kube-apiserver fake version');
    expect(run.stderr).toMatch(/\[kube\] built k8s-\S+ in \d+s into .*\/bins\/k8s\n$/);
    expect(readdirSync(join(bins, 'k8s')).sort()).toEqual(['.complete', 'etcd', 'kube-apiserver', 'kube-proxy', 'kubectl']);
    expect(lines).toContain('kube-proxy fake version');
    expect(readdirSync(bins).sort()).toEqual(['.build.lock', 'k8s']);
  }, 60_000);

  it('a second run finds the binaries and runs no go at all', () => {
    expect(build().status).toBe(0);
    const again = build();
    expect(again.status).toBe(0);
    expect(again.goCalls).toEqual([]);
    expect(again.stderr).toMatch(/^\[kube\] binaries k8s-\S+ already built in .*\/bins\/k8s\n$/);
  }, 60_000);

  it("a failing go build: go's own output, which binary failed, non-zero, and nothing half-built left", () => {
    const run = build({ FAKE_GO_FAIL: 'kube-apiserver' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('compile: kube-apiserver/pkg5: undefined: everything');
    expect(run.stderr).toMatch(/\[kube\] ERROR: building kube-apiserver failed \(go exited 2 after \d+ s; its last 40 lines are above\)\n$/);
    expect(readdirSync(bins)).toEqual(['.build.lock']);
  }, 60_000);

  it('a GO that is not there: says so, and which Go the build needs', () => {
    const run = build({ GO: join(dir, 'no-go-here') });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^\[kube\] ERROR: GO=\S+\/no-go-here is not an executable; point it at go 1\.\d+\.\d+ or newer/);
  });
});
