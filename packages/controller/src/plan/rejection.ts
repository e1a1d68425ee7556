/**
 * A piece of input the plan leaves out, and why. Each is rejected alone: every other VIP keeps
 * working. `code` is CamelCase, ready to be an Event reason on `object`.
 */
export const RejectionCode = {
  InvalidEntry: 'InvalidEntry',
  UnsupportedMode: 'UnsupportedMode',
  ReservedKey: 'ReservedKey',
  InvalidPools: 'InvalidPools',
  InvalidAddress: 'InvalidAddress',
  UnknownService: 'UnknownService',
  VipConflict: 'VipConflict',
  PoolExhausted: 'PoolExhausted',
  VridConflict: 'VridConflict',
  VridRangeExhausted: 'VridRangeExhausted',
  NoEndpoints: 'NoEndpoints',
  NoEligibleNode: 'NoEligibleNode',
  NoInterface: 'NoInterface',
} as const;
export type RejectionCode = (typeof RejectionCode)[keyof typeof RejectionCode];

export interface RejectedObject {
  readonly kind: 'ConfigMap' | 'Service' | 'Node';
  readonly namespace: string;
  readonly name: string;
}

export interface Rejection {
  /** The ConfigMap key, or `namespace/name` of a Service (ConfigMap keys never hold a "/"). */
  readonly key: string;
  readonly reason: string;
  readonly code: RejectionCode;
  /** The object an Event about it belongs to. */
  readonly object: RejectedObject;
}
