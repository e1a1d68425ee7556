import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { finishImport, FindingKind, formatFinding, formatImportIssue, importKeepalived } from '@keepvip/agent';

interface ImportOptions {
  output?: string;
}

/**
 * Exit 0 when the converted configuration validates, even with directives left out (they are
 * listed on stderr and in the YAML header); 1 when the input cannot be read or parsed, or the
 * result does not validate. The draft is still written in that last case: it is the starting
 * point for the fix, and its header says it does not validate.
 */
export function registerImportKeepalived(program: Command): void {
  program
    .command('import-keepalived')
    .description('convert the VRRP part of a keepalived.conf (and its includes) to keepvip YAML')
    .argument('<file>', 'keepalived configuration')
    .option('-o, --output <file>', 'write the YAML here instead of stdout')
    .action(async (file: string, opts: ImportOptions) => {
      const imported = importKeepalived(file);
      if (!imported.ok) {
        for (const issue of imported.errors) process.stderr.write(`${formatImportIssue(issue)}\n`);
        process.exitCode = 1;
        return;
      }
      const { yaml, problems } = finishImport(imported, file);
      const skipped = imported.findings.filter((f) => f.kind === FindingKind.NotCarriedOver);
      const notes = imported.findings.filter((f) => f.kind === FindingKind.Note);
      if (skipped.length > 0) process.stderr.write(`not carried over (${skipped.length}):\n${skipped.map((f) => `  ${formatFinding(f)}\n`).join('')}`);
      if (notes.length > 0) process.stderr.write(`notes (${notes.length}):\n${notes.map((f) => `  ${formatFinding(f)}\n`).join('')}`);
      if (opts.output === undefined) process.stdout.write(yaml);
      else {
        try {
          await writeFile(opts.output, yaml);
        } catch (error) {
          process.stderr.write(`${opts.output}: cannot write: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exitCode = 1;
          return;
        }
      }
      if (problems.length > 0) {
        process.stderr.write(`the converted configuration does not validate (${problems.length} error(s)):\n${problems.map((p) => `  ${p}\n`).join('')}`);
        process.exitCode = 1;
        return;
      }
      process.stderr.write(`${imported.config.instances.length} instance(s) converted${opts.output === undefined ? '' : ` to ${opts.output}`}\n`);
    });
}
