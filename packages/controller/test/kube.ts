/**
 * Test access to the real control plane that scripts/kube/jest-global-setup.js starts for the
 * run: an admin KubeConfig, client for other identities, watches, and error helpers.
 */

import { describe, expect } from '@jest/globals';
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const kubeconfigPath = process.env.KEEPVIP_TEST_KUBECONFIG;

/** Path of the kubectl built with the API server, for the tests that drive it. */
export const kubectlPath = process.env.KEEPVIP_TEST_KUBECTL ?? 'kubectl';

/**
 * `describe` when the control plane is up, `describe.skip` when the setup found no binaries
 * (only possible outside CI: in CI the setup fails the run instead).
 */
export const describeKube: typeof describe.skip = kubeconfigPath ? describe : describe.skip;

/** Runs the built kubectl as the admin (of the run's control plane unless told); never throws, returns the exit code and all output. */
export function kubectl(args: string[], input = '', kubeconfig = requireKubeconfig()): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 60_000 });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(input);
  });
}

export function requireKubeconfig(): string {
  if (!kubeconfigPath) throw new Error('KEEPVIP_TEST_KUBECONFIG is not set (jest-global-setup.js did not run)');
  return kubeconfigPath;
}

/** The admin (system:masters) configuration from the global setup. */
export function adminConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(requireKubeconfig());
  return kc;
}

/** Same cluster as `admin`, authenticated by a bearer token (e.g. a ServiceAccount's). */
export function tokenConfig(admin: KubeConfig, name: string, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(cluster, { name, token });
  return kc;
}

/** A DNS-1123 name nobody else in this run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Request options that send a JSON merge patch (RFC 7386) instead of the default. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The HTTP status a client call failed with (throws if it succeeded or failed otherwise). */
export async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
  throw new Error('expected the API call to fail, it succeeded');
}

export async function expectStatus(call: Promise<unknown>, code: number): Promise<void> {
  expect(await statusOf(call)).toBe(code);
}

export interface WatchEvent {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string } } & Record<string, unknown>;
}

export interface Recorder {
  readonly events: WatchEvent[];
  /** Resolves with the first recorded event matching `pred` (waiting for it if needed). */
  next(pred: (e: WatchEvent) => boolean, timeoutMs?: number): Promise<WatchEvent>;
  stop(): void;
}

/**
 * Watches `path` (a collection URL such as /api/v1/namespaces/x/configmaps) from
 * `resourceVersion` on — the list-then-watch pattern of an informer — recording every event.
 */
export async function record(kc: KubeConfig, path: string, resourceVersion: string, query: Record<string, string> = {}): Promise<Recorder> {
  const events: WatchEvent[] = [];
  const waiters: { pred: (e: WatchEvent) => boolean; resolve: (e: WatchEvent) => void }[] = [];
  let failure: unknown;
  const controller = await new Watch(kc).watch(
    path,
    { ...query, resourceVersion, allowWatchBookmarks: false },
    (type, object) => {
      const e = { type, object } as WatchEvent;
      events.push(e);
      for (const w of waiters.filter((w) => w.pred(e))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    },
    (err) => {
      failure = err;
    },
  );
  return {
    events,
    next(pred, timeoutMs = 15_000) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const why = failure ? `; watch ended: ${String(failure)}` : '';
          reject(new Error(`no matching watch event on ${path} in ${timeoutMs} ms (saw ${events.map((e) => e.type).join(',') || 'none'})${why}`));
        }, timeoutMs);
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
    stop() {
      controller.abort();
    },
  };
}

/** 200 if a watch on `path` is established, else the HTTP status that refused it (e.g. 403). */
export async function watchStatus(kc: KubeConfig, path: string): Promise<number> {
  let code = 200;
  const controller = await new Watch(kc).watch(path, {}, () => undefined, (err: unknown) => {
    if (code === 200 && err && typeof err === 'object' && 'statusCode' in err) code = Number(err.statusCode);
  });
  const result = code; // a refused watch has reported by now; an accepted one is still open
  controller.abort();
  return result;
}

/** Predicate: an event of `type` for the object called `name`. */
export const is =
  (type: string, name: string, extra: (o: WatchEvent['object']) => boolean = () => true) =>
  (e: WatchEvent): boolean =>
    e.type === type && e.object.metadata?.name === name && extra(e.object);

/**
 * Applies daemonset/namespace.yaml and rbac.yaml (idempotent) and returns a configuration
 * that authenticates as the DaemonSet's ServiceAccount, keepvip-system/keepvip, with a token
 * from the TokenRequest API: never the admin. `server` overrides the API server URL;
 * `adminKubeconfig` is the file behind `admin` when it is not the run's control plane.
 */
export async function keepvipServiceAccount(admin: KubeConfig, server?: string, adminKubeconfig?: string): Promise<KubeConfig> {
  const dir = new URL('../../../daemonset/', import.meta.url).pathname;
  const applied = await kubectl(['apply', '-f', `${dir}namespace.yaml`, '-f', `${dir}rbac.yaml`], '', adminKubeconfig);
  if (applied.code !== 0) throw new Error(`kubectl apply of namespace.yaml and rbac.yaml failed: ${applied.out}`);
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: 'keepvip',
    namespace: 'keepvip-system',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const jwt = token.status?.token;
  if (!jwt) throw new Error('TokenRequest returned no token');
  if (server === undefined) return tokenConfig(admin, 'keepvip-sa', jwt);
  const kc = new KubeConfig();
  // A plain-HTTP test proxy on loopback (fault-proxy.ts): client-node sends a token over http
  // only when TLS checking is declared off; there is no TLS on that hop to check.
  kc.loadFromClusterAndUser({ name: 'via-proxy', server, skipTLSVerify: server.startsWith('http:') }, { name: 'keepvip-sa', token: jwt });
  return kc;
}

/** Polls `check` until it returns a value that is not undefined (or throws after `timeoutMs`). */
export async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
