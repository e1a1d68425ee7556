export * from './cluster.js';
export * from './leader-election.js';
export * from './kube-adapter.js';
export * from './reconcile-loop.js';
