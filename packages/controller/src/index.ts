// The controller's side of the cluster (the adapter's object shapes, the ports, the counters);
// the planner's looser shapes of the same objects are exported by plan/ under other names (ConfigMap, Service, EndpointSlice, Node).
export * from './cluster.js';
export { LeaderElector, systemElectionClock, type ElectionClock, type LeaderElectorOptions, type LeaseRecord, type LeaseSpec, type LeaseStore } from './leader-election.js';
export { DEFAULT_LEASE, KubeCluster, httpStatus, loadKubeConfig, type KubeClusterOptions, type KubeConfig, type LeaseOptions, type NamespacedName } from './kube-adapter.js';
export { ReconcileLoop, canonical, type Apply, type Plan, type Planner, type ReconcileLoopOptions, type RejectedEntry, type ServiceIngress } from './reconcile-loop.js';
export * from './plan/index.js';
export * from './keepvip-planner.js';
export { localInterfaceOf, localInterfaceTable } from './local-interface.js';
