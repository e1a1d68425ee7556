/**
 * What a planner may keep from one plan to the next so that an unchanged Service costs nothing:
 * its endpoints per port and its VIPs' NAT bindings, reused while the Service, its
 * EndpointSlices and the Nodes are the same objects as before (an informer hands back the
 * same object until the API server changes it). Only speed: a plan made with a memo equals one
 * made without, and its unchanged bindings are the very objects of the last plan, so what
 * compares plans (the planner's validation cache, the reconcile loop, the agent) sees them
 * unchanged at a glance.
 */
import type { NatBinding } from '@keepvip/agent';
import type { EndpointSlice, Node, Service } from './cluster.js';
import type { ServiceEndpoints } from './nat.js';

interface ServiceMemo {
  readonly slices: readonly EndpointSlice[];
  readonly endpoints: ServiceEndpoints;
  /** The Service object the bindings were made from, and the bindings by VIP. */
  service: Service | undefined;
  readonly bindings: Map<string, NatBinding[]>;
}

/** The same objects in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

export class PlanMemo {
  /** The Nodes of the last plan: an endpoint carries its Node's InternalIP and readiness. */
  #nodes: readonly Node[] = [];
  #services = new Map<string, ServiceMemo>();
  /** The Services read by the plan being made (the others are forgotten at its end). */
  #read = new Map<string, ServiceMemo>();

  /** Starts a plan: everything is forgotten when a Node changed. */
  begin(nodes: readonly Node[]): void {
    if (!sameItems(nodes, this.#nodes)) this.#services.clear();
    this.#nodes = nodes;
    this.#read = new Map();
  }

  /** Ends a plan: only the Services it read are kept (a deleted Service's objects are let go). */
  end(): void {
    this.#services = this.#read;
    this.#read = new Map();
  }

  /** The Service's endpoints, kept while its EndpointSlices are the same objects. */
  endpoints(key: string, slices: readonly EndpointSlice[], make: () => ServiceEndpoints): ServiceEndpoints {
    let memo = this.#read.get(key) ?? this.#services.get(key);
    if (memo === undefined || !sameItems(memo.slices, slices)) memo = { slices, endpoints: make(), service: undefined, bindings: new Map() };
    this.#read.set(key, memo);
    return memo.endpoints;
  }

  /**
   * A VIP's bindings to the Service (`vip`: what else they depend on, as text), kept while the
   * Service object and its endpoints are the ones last used. Call `endpoints` for it first.
   */
  bindings(key: string, service: Service, vip: string, make: () => NatBinding[]): NatBinding[] {
    const memo = this.#read.get(key);
    if (memo === undefined) return make();
    if (memo.service !== service) {
      memo.service = service;
      memo.bindings.clear();
    }
    let bindings = memo.bindings.get(vip);
    if (bindings === undefined) {
      bindings = make();
      memo.bindings.set(vip, bindings);
    }
    return bindings;
  }
}
