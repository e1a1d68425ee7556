// Jest globalSetup shared by the packages whose tests need a Kubernetes API server: brings
// up one etcd + kube-apiserver (scripts/kube/up) per test run, in a state dir of its own so
// concurrent runs in the same tree do not share or stop each other's control plane, and
// exports for the tests:
//   KEEPVIP_TEST_KUBECONFIG  admin kubeconfig (static token in system:masters)
//   KEEPVIP_TEST_KUBECTL     the kubectl built next to the apiserver
// Without binaries (scripts/kube/build not run) the tests that need them skip, loudly,
// unless CI is set: then, as on any start-up failure, the run fails.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempRoot } from '../jest/temp-root.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Exit status of scripts/kube/up when the binaries have not been built. */
const NO_BINARIES = 3;

/** This run's state dir; setup and teardown run in the same (jest parent) process. */
export function stateDir() {
  return join(here, '.run', `jest-${process.pid}`);
}

function banner(lines) {
  const bar = '!'.repeat(78);
  console.warn(['', bar, ...lines.map((l) => `!! ${l}`), bar, ''].join('\n'));
}

export default function globalSetup() {
  createTempRoot(); // as every package's run does (scripts/jest/global-setup.js)
  const state = stateDir();
  const started = Date.now();
  const up = spawnSync('bash', [join(here, 'up')], {
    env: { ...process.env, KEEPVIP_KUBE_STATE: state, KEEPVIP_KUBE_WATCH_PID: String(process.pid) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (up.status === NO_BINARIES && !process.env.CI) {
    banner([
      'Kubernetes control plane NOT AVAILABLE: etcd/kube-apiserver/kubectl are not built.',
      'Every test that needs the API server is SKIPPED in this run.',
      'Build them once (about 6 minutes cold on 2 cores, cached afterwards): bash scripts/kube/build',
    ]);
    delete process.env.KEEPVIP_TEST_KUBECONFIG;
    delete process.env.KEEPVIP_TEST_KUBECTL;
    return;
  }
  if (up.status !== 0) {
    throw new Error(
      `scripts/kube/up failed (status ${up.status ?? up.signal}${process.env.CI ? ', CI is set so this fails the run' : ''}):\n${up.stderr}`,
    );
  }
  const kubeconfig = up.stdout.trim().split('\n').pop();
  const env = Object.fromEntries(
    readFileSync(join(state, 'env'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  process.env.KEEPVIP_TEST_KUBECONFIG = kubeconfig;
  process.env.KEEPVIP_TEST_KUBECTL = env.KUBECTL;
  console.log(`\n[kube] control plane up in ${Date.now() - started} ms; kubeconfig ${kubeconfig}`);
}
