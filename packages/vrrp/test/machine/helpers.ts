import type { Advert, InstanceConfig, VrrpAction, VrrpEvent, VrrpInstance } from '../../src/index.js';
import { createInstance, step } from '../../src/index.js';

export function config(overrides: Partial<InstanceConfig> = {}): InstanceConfig {
  return {
    name: 'vi_test',
    version: 3,
    family: 4,
    vrid: 51,
    configuredPriority: 100,
    advertIntervalCs: 100,
    preemptMode: true,
    preemptDelayMs: 0,
    acceptMode: false,
    primaryAddress: '10.0.0.2',
    vips: ['10.0.0.100/24'],
    downTimerAdverts: 3,
    reassertOnLowerPriority: false,
    ...overrides,
  };
}

export function advert(overrides: Partial<Advert> = {}): Advert {
  return {
    version: 3,
    type: 1,
    vrid: 51,
    priority: 150,
    advertIntervalCs: 100,
    addresses: ['10.0.0.100'],
    authType: 0,
    authData: new Uint8Array(0),
    ...overrides,
  };
}

/** Runs events in order, returning the final instance and every action of the last one. */
export function run(
  instance: VrrpInstance,
  ...events: Array<[VrrpEvent, number]>
): { instance: VrrpInstance; actions: readonly VrrpAction[] } {
  let current = instance;
  let actions: readonly VrrpAction[] = [];
  for (const [event, now] of events) {
    ({ instance: current, actions } = step(current, event, now));
  }
  return { instance: current, actions };
}

export function started(c: InstanceConfig, now = 0): VrrpInstance {
  return step(createInstance(c), { kind: 'Startup' }, now).instance;
}

export function asMaster(c: InstanceConfig): VrrpInstance {
  const backup = started(c, 0);
  return step(backup, { kind: 'MasterDownTimerFired' }, backup.masterDownTimerAt ?? 0).instance;
}

export const kinds = (actions: readonly VrrpAction[]): string[] => actions.map((a) => a.kind);
export const rx = (a: Partial<Advert>, src = '10.0.0.9'): VrrpEvent => ({ kind: 'AdvertReceived', advert: advert(a), src });
