import { afterEach } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatFinding, importKeepalived, type Conversion, type ImportResult } from '../../src/import/index.js';

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The trees written by the test that is running. */
const trees: string[] = [];
// Registered in every test file that imports these helpers: its trees go after each test,
// whether it passed or failed.
afterEach(() => {
  for (const root of trees.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** Writes `files` (relative path -> text) under a fresh directory, removed after the test, and returns it. */
export function writeTree(files: Readonly<Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'keepvip-import-'));
  trees.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

export function converted(result: ImportResult): Conversion {
  if (!result.ok) throw new Error(`expected a conversion, got ${JSON.stringify(result.errors)}`);
  return result;
}

/** Converts one keepalived.conf text; findings come back formatted with the bare file name. */
export function convertText(text: string): { conversion: Conversion; findings: string[] } {
  const root = writeTree({ 'keepalived.conf': text });
  const conversion = converted(importKeepalived(join(root, 'keepalived.conf')));
  const findings = conversion.findings.map((f) => formatFinding({ ...f, at: { ...f.at, file: 'keepalived.conf' } }));
  return { conversion, findings };
}

/** A minimal vrrp_instance around `body`. */
export function instance(body: string, name = 'VI_1'): string {
  return `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n${body}\n}\n`;
}
