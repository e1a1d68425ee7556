/** The `keepvip` command line: every subcommand. */
import { Command } from 'commander';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerValidate } from './commands/validate.js';
import { registerReload } from './commands/reload.js';
import { registerImportKeepalived } from './commands/import-keepalived.js';
import { registerPlan } from './commands/plan.js';

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('keepvip')
    .description('VRRP daemon (RFC 3768 / RFC 5798) holding virtual IPs for bare-metal Kubernetes')
    .showHelpAfterError();

  registerRun(program);
  registerStatus(program);
  registerValidate(program);
  registerReload(program);
  registerImportKeepalived(program);
  registerPlan(program);

  await program.parseAsync([...argv]);
}
