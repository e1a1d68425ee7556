/**
 * Cluster objects from files: multi-document YAML, JSON, or `kubectl get -o yaml` List output,
 * for `keepvip plan`. Objects of other kinds are skipped; a file that is not YAML, or an object
 * without metadata.name, is an error naming the file and the document.
 */
import { parseAllDocuments } from 'yaml';
import type { ClusterState, ConfigMap, EndpointSlice, Node, Service } from './cluster.js';

const DEFAULT_VIP_CONFIGMAP = { namespace: 'keepvip-system', name: 'keepvip-vips' } as const;

export interface ClusterFile {
  readonly name: string;
  readonly text: string;
}

export interface DocumentsResult {
  readonly state: ClusterState;
  readonly errors: readonly string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function readClusterDocuments(files: readonly ClusterFile[], vipConfigMap: { namespace: string; name: string } = DEFAULT_VIP_CONFIGMAP): DocumentsResult {
  const errors: string[] = [];
  let configMap: ConfigMap | undefined;
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const nodes: Node[] = [];
  const seen = new Set<string>();
  const take = (object: Record<string, unknown>, where: string): void => {
    if (typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray(object.items)) {
      (object.items as unknown[]).forEach((item, i) => (isObject(item) ? take(item, `${where} items[${i}]`) : errors.push(`${where} items[${i}]: not an object`)));
      return;
    }
    if (!['ConfigMap', 'Service', 'EndpointSlice', 'Node'].includes(String(object.kind))) return;
    const metadata = object.metadata;
    if (!isObject(metadata) || typeof metadata.name !== 'string') {
      errors.push(`${where}: ${String(object.kind)} without metadata.name`);
      return;
    }
    if (object.kind === 'ConfigMap' && ((metadata.namespace ?? 'default') !== vipConfigMap.namespace || metadata.name !== vipConfigMap.name)) return;
    // Files put together by hand may hold an object twice: the first one read counts.
    const id = `${String(object.kind)} ${object.kind === 'Node' ? '' : `${typeof metadata.namespace === 'string' ? metadata.namespace : 'default'}/`}${metadata.name}`;
    if (seen.has(id)) {
      errors.push(`${where}: ${id} again (the first one read is used)`);
      return;
    }
    seen.add(id);
    switch (object.kind) {
      case 'ConfigMap':
        configMap = object as unknown as ConfigMap;
        break;
      case 'Service':
        services.push(object as unknown as Service);
        break;
      case 'EndpointSlice':
        endpointSlices.push(object as unknown as EndpointSlice);
        break;
      case 'Node':
        nodes.push(object as unknown as Node);
        break;
      default:
    }
  };
  for (const file of files) {
    parseAllDocuments(file.text).forEach((doc, index) => {
      const where = `${file.name} document ${index + 1}`;
      if (doc.errors.length > 0) {
        errors.push(`${where}: ${doc.errors[0]?.message.split('\n')[0] ?? 'YAML error'}`);
        return;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return;
      if (!isObject(value)) errors.push(`${where}: not a Kubernetes object`);
      else take(value, where);
    });
  }
  return { state: { configMap, services, endpointSlices, nodes }, errors };
}
