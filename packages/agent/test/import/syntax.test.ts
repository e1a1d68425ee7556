import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { formatImportIssue, importKeepalived, ImportErrorCode } from '../../src/import/index.js';
import { parseDirectives } from '../../src/import/parse.js';
import { tokenizeLine } from '../../src/import/tokenize.js';
import { converted, convertText, instance, writeTree } from './helpers.js';

const words = (line: string) => tokenizeLine(line).map((t) => t.text);

function errorsOf(files: Record<string, string>, main = 'keepalived.conf'): string[] {
  const root = writeTree(files);
  const result = importKeepalived(join(root, main));
  if (result.ok) throw new Error('expected errors');
  return result.errors.map((e) => formatImportIssue(e).replaceAll(`${root}/`, ''));
}

describe('import-keepalived: tokens', () => {
  it('drops # and ! comments anywhere outside quotes', () => {
    expect(words('priority 100 # the backup')).toEqual(['priority', '100']);
    expect(words('! Configuration File for keepalived')).toEqual([]);
    expect(words('auth_pass "a#b!c" ! comment')).toEqual(['auth_pass', 'a#b!c']);
  });

  it('joins quoted pieces into one word and keeps their spaces, as keepalived.conf(5) describes', () => {
    expect(words(`script 'abcd" efg h jkl "mnop'`)).toEqual(['script', 'abcd" efg h jkl "mnop']);
    expect(words('script abcd" efg h jkl "mnop')).toEqual(['script', 'abcd efg h jkl mnop']);
    expect(words('notify "a\\tb\\x41\\"q"')).toEqual(['notify', 'a\tbA"q']);
  });

  it('makes braces words of their own, but not in quotes or ${PARAMETERS}', () => {
    expect(words('group { VI_1 VI_2 }')).toEqual(['group', '{', 'VI_1', 'VI_2', '}']);
    expect(tokenizeLine('"{"')).toEqual([{ text: '{', quoted: true }]);
    expect(words('virtual_router_id ${ID}')).toEqual(['virtual_router_id', '${ID}']);
  });
});

describe('import-keepalived: blocks', () => {
  const parse = (text: string) => parseDirectives(text.split('\n').map((line, i) => ({ at: { file: 'k.conf', line: i + 1 }, tokens: tokenizeLine(line) })));

  it('takes a { on the next line and several directives on one line', () => {
    const result = parse('global_defs\n{\n  router_id a\n}\nvrrp_sync_group G { group { A B } }');
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.directives.map((d) => [d.keyword, d.at.line, d.block?.length])).toEqual([
      ['global_defs', 1, 1],
      ['vrrp_sync_group', 5, 1],
    ]);
    expect(result.directives[1]?.block?.[0]?.block?.map((d) => [d.keyword, ...d.args])).toEqual([['A', 'B']]);
  });

  it('names the line of a block that is never closed', () => {
    const errors = errorsOf({ 'keepalived.conf': 'global_defs {\n  router_id a\n\nvrrp_script chk {\n  script true\n}\n' });
    expect(errors).toEqual(["keepalived.conf:4: vrrp_script cannot stand inside the block of global_defs opened at keepalived.conf:1: a '}' is missing before this line"]);
    const atEnd = errorsOf({ 'keepalived.conf': instance('  track_interface {\n    eth1\n') });
    expect(atEnd).toEqual(['keepalived.conf:1: the block of vrrp_instance opened here is never closed (end of input at keepalived.conf:10)']);
  });

  it('names the line of a stray }', () => {
    expect(errorsOf({ 'keepalived.conf': `${instance('')}}\n` })).toEqual(["keepalived.conf:9: '}' closes no block"]);
    expect(errorsOf({ 'keepalived.conf': '{\n' })).toEqual(["keepalived.conf:1: '{' does not follow a keyword"]);
  });
});

describe('import-keepalived: include', () => {
  it('resolves globs against the including file, in sorted order, from any depth', () => {
    const root = writeTree({
      'etc/keepalived.conf': 'include conf.d/*.conf\n',
      'etc/conf.d/20-b.conf': instance('  priority 120', 'B').replace('51', '52'),
      'etc/conf.d/10-a.conf': 'include ../scripts/{chk,x}.conf\n' + instance('  track_script {\n    chk\n  }', 'A'),
      'etc/scripts/chk.conf': 'vrrp_script chk {\n  script "/bin/true"\n}\n',
    });
    const conversion = converted(importKeepalived(join(root, 'etc/keepalived.conf')));
    expect(conversion.config.instances.map((i) => [i.name, i.priority, i.track?.scripts?.[0]?.command])).toEqual([
      ['A', 100, '/bin/true'],
      ['B', 120, undefined],
    ]);
    expect(conversion.origins.map((o) => o.at.file.replace(`${root}/`, ''))).toEqual(['etc/conf.d/10-a.conf', 'etc/conf.d/20-b.conf']);
  });

  it('notes a pattern that matches nothing, as keepalived does for an optional conf.d', () => {
    const root = writeTree({ 'keepalived.conf': `include conf.d/*.conf\n${instance('')}` });
    const conversion = converted(importKeepalived(join(root, 'keepalived.conf')));
    expect(conversion.findings.map((f) => [f.kind, f.at.line, f.directive, f.message])).toEqual([['note', 1, 'include conf.d/*.conf', 'matches no file']]);
  });

  it('fails on a missing file, naming the include line', () => {
    expect(errorsOf({ 'keepalived.conf': `${instance('')}include extra.conf\n` })).toEqual([
      'keepalived.conf:9: include extra.conf: cannot read: no such file',
    ]);
    const root = writeTree({});
    const result = importKeepalived(join(root, 'absent.conf'));
    expect(result.ok ? [] : result.errors.map((e) => e.code)).toEqual([ImportErrorCode.Unreadable]);
  });

  it('fails on a cycle, naming the chain and the include line that closes it', () => {
    const errors = errorsOf({
      'keepalived.conf': 'include a.conf\n',
      'a.conf': '# a\ninclude sub/b.conf\n',
      'sub/b.conf': 'include ../a.conf\n',
    });
    expect(errors).toEqual(['sub/b.conf:1: include cycle: a.conf -> sub/b.conf -> a.conf']);
  });

  it('splices an include inside a block', () => {
    const root = writeTree({ 'keepalived.conf': instance('  include vips.conf').replace('    10.0.0.1/24\n', ''), 'vips.conf': 'priority 42\n' });
    const conversion = converted(importKeepalived(join(root, 'keepalived.conf')));
    expect(conversion.config.instances[0]?.priority).toBe(42);
  });
});

describe('import-keepalived: top-level odds and ends', () => {
  it('reports whole non-VRRP blocks once, and parameter definitions', () => {
    const { findings } = convertText(`$IF=eth0\nstatic_ipaddress {\n  10.1.1.1/24 dev eth0\n}\n${instance('')}virtual_server_group G {\n  10.0.0.1 80\n}\n`);
    expect(findings).toEqual([
      'keepalived.conf:1: $IF=eth0 (parameter substitution) is not supported; expand the definitions by hand',
      'keepalived.conf:2: static_ipaddress is not carried over: keepvip manages virtual addresses only',
      'keepalived.conf:13: virtual_server_group G (LVS) is not carried over: keepvip does VRRP only',
    ]);
  });

  it('gives syntax errors a code', () => {
    const root = writeTree({ 'keepalived.conf': '}\n' });
    const result = importKeepalived(join(root, 'keepalived.conf'));
    expect(result.ok ? undefined : result.errors[0]?.code).toBe(ImportErrorCode.Syntax);
  });
});
