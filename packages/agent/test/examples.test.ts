import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { formatIssue, parseConfigText } from '../src/index.js';

const repo = new URL('../../../', import.meta.url);

describe('shipped example configurations', () => {
  it('the DaemonSet’s keepvip-config ConfigMap holds a valid configuration', () => {
    const docs = loadAll(readFileSync(new URL('daemonset/configmap-example.yaml', repo), 'utf8')) as { metadata?: { name?: string }; data?: Record<string, string> }[];
    const text = docs.find((d) => d.metadata?.name === 'keepvip-config')?.data?.['config.yaml'];
    expect(text).toBeDefined();
    const result = parseConfigText(text ?? '');
    expect(result.ok ? [] : result.errors.map(formatIssue)).toEqual([]);
  });

  it('the documented example in docs/configuration.md is valid', () => {
    const doc = readFileSync(new URL('docs/configuration.md', repo), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const result = parseConfigText(example ?? '');
    expect(result.ok ? [] : result.errors.map(formatIssue)).toEqual([]);
  });
});
