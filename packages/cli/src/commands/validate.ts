import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { formatIssue, parseConfigText } from '@keepvip/agent';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a configuration file; prints every error with its path')
    .argument('<file>', 'YAML configuration')
    .action(async (file: string) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        process.stderr.write(`${file}: cannot read: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
        return;
      }
      const result = parseConfigText(text);
      if (!result.ok) {
        process.stderr.write(`${file}: ${result.errors.length} error(s)\n`);
        for (const issue of result.errors) process.stderr.write(`  ${formatIssue(issue)}\n`);
        process.exitCode = 1;
        return;
      }
      for (const warning of result.warnings) process.stderr.write(`warning: ${formatIssue(warning)}\n`);
      process.stdout.write(`${file}: valid, ${result.config.instances.length} instance(s)\n`);
    });
}
