// The object shapes the planner reads (looser than ../cluster.ts's: files from kubectl fit them too).
export { SERVICE_NAME_LABEL, objectKey, isNodeReady, compareByAge, type ClusterState, type ConfigMap, type Service, type EndpointSlice, type Node } from './cluster.js';
export { RejectionCode, type RejectedObject, type Rejection } from './rejection.js';
export { familyOf, compareIps, type Family } from './address.js';
export { parseVipConfigMap, parseVipEntry, parseServiceRef, POOLS_KEY, type Parsed, type VipEntry, type ServiceRef, type ParsedVipConfigMap } from './configmap.js';
export { parsePools, poolContains, type AddressPool, type AddressRange } from './pools.js';
export {
  allocateLoadBalancerIPs,
  isKeepvipLoadBalancer,
  LOAD_BALANCER_CLASS,
  LOAD_BALANCER_IPS_ANNOTATION,
  ADDRESS_POOL_ANNOTATION,
  type AllocationInput,
  type AllocationResult,
  type LoadBalancerAllocation,
  type IpSource,
} from './allocate.js';
export { assignTops, spreadBounds, SPREAD_CAP_FACTOR, type SpreadUnit } from './spread.js';
export { allocateVrids, DEFAULT_VRID_RANGE, type VridRange } from './vrid.js';
export { rankPriorities, RANK_PRIORITY_STEP } from './priority.js';
export { planCluster, DEFAULT_MAX_PRIORITY, MAX_VIPS_PER_INSTANCE, type ClusterPlan, type ClusterPlanOptions, type PlannedGroup, type RankedNode } from './planner.js';
export { plan, planNode, type NodePlan, type NodePlanOptions, type PlannedInstance } from './node-plan.js';
export { resolveInstances, toAgentInstance, withPlanned, type InstanceTemplate, type ResolveResult } from './resolve.js';
export { readClusterDocuments, type ClusterFile, type DocumentsResult } from './documents.js';
export { natBindingsFor, bindsNat, DEFAULT_AFFINITY_TIMEOUT_SECONDS } from './nat.js';
export { PlanMemo } from './memo.js';
