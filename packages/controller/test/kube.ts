/**
 * Test access to the real control plane that scripts/kube/jest-global-setup.js starts for the
 * run: an admin KubeConfig, client for other identities, watches, and error helpers.
 */

import { describe, expect } from '@jest/globals';
import { ApiException, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';

const kubeconfigPath = process.env.KEEPVIP_TEST_KUBECONFIG;

/** Path of the kubectl built with the API server, for the tests that drive it. */
export const kubectlPath = process.env.KEEPVIP_TEST_KUBECTL ?? 'kubectl';

/**
 * `describe` when the control plane is up, `describe.skip` when the setup found no binaries
 * (only possible outside CI: in CI the setup fails the run instead).
 */
export const describeKube: typeof describe.skip = kubeconfigPath ? describe : describe.skip;

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
