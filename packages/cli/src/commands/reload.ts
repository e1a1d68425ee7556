import type { Command } from 'commander';
import { controlRequest } from '@keepvip/agent';
import { DEFAULT_STATUS_SOCKET } from '../defaults.js';
import { durationMs } from '../duration-option.js';
import { formatReloadReport } from '../reload-report.js';

export function registerReload(program: Command): void {
  program
    .command('reload')
    .description('make the running daemon re-read its configuration (like SIGHUP)')
    .option('-s, --socket <path>', 'control socket of the daemon', DEFAULT_STATUS_SOCKET)
    .option('--timeout <duration>', 'how long the daemon has to answer', durationMs, 30_000)
    .action(async (opts: { socket: string; timeout: number }) => {
      try {
        await controlRequest(
          opts.socket,
          { command: 'reload' },
          (response) => {
            if (!response.ok) {
              process.stderr.write(`keepvip reload: ${response.error}\n`);
              process.exitCode = 1;
            } else if ('reload' in response) {
              const r = response.reload;
              if (r.ok) {
                // One line per instance: added, changed in place, restarted, unchanged, removed, failed.
                const { text, failed } = formatReloadReport(r);
                process.stdout.write(text);
                if (failed) process.exitCode = 1;
              } else {
                process.stderr.write(`reload rejected, the running configuration stays:\n  ${r.errors.join('\n  ')}\n`);
                process.exitCode = 1;
              }
            } else {
              process.stderr.write('keepvip reload: the daemon answered with something other than a reload report\n');
              process.exitCode = 1;
            }
          },
          { timeoutMs: opts.timeout },
        );
      } catch (error) {
        process.stderr.write(`keepvip reload: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    });
}
