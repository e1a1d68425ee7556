/**
 * `import-keepalived` reads hostile input within bounds: only regular files, a depth, a number
 * of files and a size, each refusal named with its include line. The inputs that hung or
 * filled the memory before (/dev/zero, a FIFO, a doubling include tree) run in a child
 * process, through the built CLI, with a timeout and a heap cap, so a regression fails the
 * test instead of hanging the run. Every temp dir is removed, also when a test fails.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SOURCE_LIMITS, formatImportIssue, importKeepalived, type SourceLimits } from '../../src/import/index.js';
import { instance } from './helpers.js';

const cli = fileURLToPath(new URL('../../../cli/dist/main.js', import.meta.url));
const built = existsSync(cli);
if (!built) process.stderr.write(`skipping the hostile-include CLI tests: ${cli} is not built (pnpm build)\n`);
const withCli = built ? it : it.skip;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` under a fresh temp dir (removed after the test) and returns the dir. */
function tree(files: Readonly<Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'keepvip-import-limits-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function errorsOf(root: string, limits?: SourceLimits): string[] {
  const result = importKeepalived(join(root, 'keepalived.conf'), limits);
  if (result.ok) throw new Error('expected the import to be refused');
  return result.errors.map((e) => formatImportIssue(e).replaceAll(`${root}/`, ''));
}

/** The CLI in a child: at most 20 s and a 128 MiB heap, whatever the input does. */
function importInChild(root: string, file = 'keepalived.conf') {
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--max-old-space-size=128', cli, 'import-keepalived', file], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
    killSignal: 'SIGKILL',
  });
  return { code: result.status, signal: result.signal, stderr: result.stderr, ms: Date.now() - started };
}

/** The child ended on its own (no timeout kill), exit 1, with exactly `stderr`. */
function expectRefused(run: ReturnType<typeof importInChild>, stderr: string): void {
  expect({ signal: run.signal, code: run.code, stderr: run.stderr }).toEqual({ signal: null, code: 1, stderr });
}

/** An include chain: keepalived.conf -> 1.conf -> ... -> n.conf, the last holding an instance. */
function chain(n: number): Record<string, string> {
  const files: Record<string, string> = { 'keepalived.conf': 'include 1.conf\n' };
  for (let i = 1; i < n; i++) files[`${i}.conf`] = `include ${i + 1}.conf\n`;
  files[`${n}.conf`] = instance('');
  return files;
}

describe('import-keepalived: bounded reading', () => {
  withCli('refuses an include of /dev/zero at once, naming the line', () => {
    const root = tree({ 'keepalived.conf': `${instance('')}include /dev/zero\n` });
    const run = importInChild(root);
    expectRefused(run, 'keepalived.conf:9: include /dev/zero: refused: is a character device, not a regular file\n');
  }, 30_000);

  withCli('refuses a FIFO include without waiting for a writer', () => {
    const root = tree({ 'keepalived.conf': `include conf.d/*.conf\n${instance('')}` });
    mkdirSync(join(root, 'conf.d'));
    execFileSync('mkfifo', [join(root, 'conf.d/pipe.conf')]);
    const run = importInChild(root);
    expectRefused(run, 'keepalived.conf:1: include conf.d/pipe.conf: refused: is a FIFO, not a regular file\n');
  }, 30_000);

  withCli('stops a doubling include tree 18 deep (2^18 reads of 19 files) at the depth bound, each refused line once', () => {
    const files: Record<string, string> = { 'keepalived.conf': 'include d1.conf\ninclude d1.conf\n' };
    for (let level = 1; level < 18; level++) files[`d${level}.conf`] = `include d${level + 1}.conf\ninclude d${level + 1}.conf\n`;
    files['d18.conf'] = '# leaf\n';
    const run = importInChild(tree(files));
    const chain = ['keepalived.conf', ...Array.from({ length: 9 }, (_, i) => `d${i + 1}.conf`)].join(' -> ');
    expectRefused(run, `d8.conf:1: include d9.conf: refused: includes nest more than 8 deep: ${chain}\nd8.conf:2: include d9.conf: refused: includes nest more than 8 deep: ${chain}\n`);
    // Stopped at the bound (511 reads), not after reading the tree: a fraction of the 20 s allowed.
    expect(run.ms).toBeLessThan(10_000);
  }, 30_000);

  it('stops at 1,000 files read: a fan-out of 10 three deep reads 1,111 of 31 files', () => {
    const files: Record<string, string> = { 'keepalived.conf': `include l1/*.conf\n${instance('')}` };
    for (let i = 0; i < 10; i++) {
      files[`l1/${i}.conf`] = 'include ../l2/*.conf\n';
      files[`l2/${i}.conf`] = 'include ../l3/*.conf\n';
      files[`l3/${i}.conf`] = '# leaf\n';
    }
    // Each l1 file is 1 + 10 * (1 + 10) = 111 reads: the top file and l1/0..8 make 1,000, l1/9 is the 1,001st.
    expect(errorsOf(tree(files))).toEqual(['keepalived.conf:1: include l1/9.conf: refused: more than 1000 files to read (a file included twice counts twice); nothing more is read']);
  });

  it('reports at most 100 refusals, then stops reading', () => {
    const errors = errorsOf(tree({ 'keepalived.conf': 'include /dev/null\n'.repeat(150) }));
    expect(errors).toHaveLength(101);
    expect(errors[99]).toBe('keepalived.conf:100: include /dev/null: refused: is a character device, not a regular file');
    expect(errors[100]).toBe('100 refusals; nothing more is read');
  });

  it('refuses a directory named by an include', () => {
    const root = tree({ 'keepalived.conf': `include conf.d\n${instance('')}`, 'conf.d/a.conf': '' });
    expect(errorsOf(root)).toEqual(['keepalived.conf:1: include conf.d: refused: is a directory, not a regular file']);
  });

  it('refuses a cycle through a symbolic link, naming the chain', () => {
    const root = tree({ 'keepalived.conf': `include sub/a.conf\n${instance('')}`, 'sub/a.conf': 'include ../again.conf\n' });
    execFileSync('ln', ['-s', 'keepalived.conf', join(root, 'again.conf')]);
    expect(errorsOf(root)).toEqual(['sub/a.conf:1: include cycle: keepalived.conf -> sub/a.conf -> again.conf']);
  });

  it('refuses includes nested deeper than 8, and takes 8', () => {
    expect(converts(tree(chain(8)))).toBe(true);
    expect(errorsOf(tree(chain(9)))).toEqual([
      '8.conf:1: include 9.conf: refused: includes nest more than 8 deep: keepalived.conf -> 1.conf -> 2.conf -> 3.conf -> 4.conf -> 5.conf -> 6.conf -> 7.conf -> 8.conf -> 9.conf',
    ]);
  });

  it('refuses a file over 8 MiB, and reads one of exactly 8 MiB', () => {
    const pad = (bytes: number) => `# ${'x'.repeat(bytes - 3)}\n`;
    const root = tree({ 'keepalived.conf': `${instance('')}include big.conf\n`, 'big.conf': pad(8 * 1024 * 1024 + 1) });
    expect(errorsOf(root)).toEqual([`keepalived.conf:9: include big.conf: refused: is ${8 * 1024 * 1024 + 1} bytes, more than the ${8 * 1024 * 1024} read from one file`]);
    writeFileSync(join(root, 'big.conf'), pad(8 * 1024 * 1024));
    expect(converts(root)).toBe(true);
  });

  it('stops once the files read come to more than the total', () => {
    const limits = { ...DEFAULT_SOURCE_LIMITS, maxFileBytes: 100, maxTotalBytes: 250 };
    const files: Record<string, string> = { 'keepalived.conf': 'include a.conf\ninclude b.conf\ninclude c.conf\ninclude d.conf\n' };
    for (const name of ['a', 'b', 'c', 'd']) files[`${name}.conf`] = `# ${'x'.repeat(90)}\n`;
    const root = tree(files);
    expect(errorsOf(root, limits)).toEqual(['keepalived.conf:3: include c.conf: refused: the files read come to more than 250 bytes; nothing more is read']);
  });

  it('reports every refusal of a file, not only the first', () => {
    const root = tree({ 'keepalived.conf': `include /dev/null\ninclude missing.conf\ninclude conf.d\n${instance('')}` });
    mkdirSync(join(root, 'conf.d'));
    expect(errorsOf(root)).toEqual([
      'keepalived.conf:1: include /dev/null: refused: is a character device, not a regular file',
      'keepalived.conf:2: include missing.conf: cannot read: no such file',
      'keepalived.conf:3: include conf.d: refused: is a directory, not a regular file',
    ]);
  });

  withCli('refuses a device as the top file too', () => {
    const run = importInChild(tree({}), '/dev/zero');
    expectRefused(run, '/dev/zero: refused: is a character device, not a regular file\n');
  }, 30_000);

  it('reads ** as glob(3) does, one path component, not a walk of the tree', () => {
    const root = tree({
      'keepalived.conf': `include conf.d/**/*.conf\n${instance('')}`,
      'conf.d/a.conf': 'nonsense {\n',
      'conf.d/deep/b.conf': 'global_defs {\n}\n',
      'conf.d/deep/deeper/c.conf': 'nonsense {\n',
    });
    expect(converts(root)).toBe(true);
  });
});

function converts(root: string): boolean {
  const result = importKeepalived(join(root, 'keepalived.conf'));
  if (!result.ok) throw new Error(result.errors.map(formatImportIssue).join('\n'));
  return result.ok;
}
