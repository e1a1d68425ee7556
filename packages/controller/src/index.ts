// Named exports: the planner's module has its own ObjectMeta, Endpoint, ... (structurally the
// same shapes), so this side exports only what does not clash.
export {
  countInto,
  newControllerCounters,
  type ClusterSnapshot,
  type ClusterSource,
  type ClusterWriter,
  type ConfigMapObject,
  type ControllerCounters,
  type EndpointSliceObject,
  type EventRecord,
  type InvolvedObject,
  type Leadership,
  type NodeObject,
  type ServiceObject,
} from './cluster.js';
export { LeaderElector, systemElectionClock, type ElectionClock, type LeaderElectorOptions, type LeaseRecord, type LeaseSpec, type LeaseStore } from './leader-election.js';
export { DEFAULT_LEASE, KubeCluster, httpStatus, loadKubeConfig, type KubeClusterOptions, type KubeConfig, type LeaseOptions, type NamespacedName } from './kube-adapter.js';
export { ReconcileLoop, canonical, type Apply, type Plan, type Planner, type ReconcileLoopOptions, type RejectedEntry, type ServiceIngress } from './reconcile-loop.js';
export * from './plan/index.js';
export * from './keepvip-planner.js';
export { localInterfaceOf, localInterfaceTable } from './local-interface.js';
