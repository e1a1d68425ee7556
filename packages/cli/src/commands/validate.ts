import type { Command } from 'commander';
import { formatIssue, readConfigFile } from '@keepvip/agent';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a configuration file as run and reload would; prints every error with its path')
    .argument('<file>', 'YAML configuration')
    .action(async (file: string) => {
      // The read and the validation run and reload use (a FIFO or /dev/zero is refused, not read).
      const result = await readConfigFile(file);
      if (!result.readable) {
        process.stderr.write(`${file}: cannot read: ${result.reason}\n`);
        process.exitCode = 2;
        return;
      }
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
