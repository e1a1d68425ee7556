import type { Command } from 'commander';
import { ControlClientError, controlRequest, type StatusReport } from '@keepvip/agent';
import { DEFAULT_STATUS_SOCKET } from '../defaults.js';
import { durationMs } from '../duration-option.js';
import { statusTable } from '../status-table.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the running daemon’s instances')
    .option('--json', 'machine-readable output')
    .option('--watch', 'redraw on every transition (Ctrl-C to stop)')
    .option('-s, --socket <path>', 'control socket of the daemon', DEFAULT_STATUS_SOCKET)
    .option('--timeout <duration>', 'how long the daemon has to answer (with --watch: the first status)', durationMs, 10_000)
    .action(async (opts: { json?: boolean; watch?: boolean; socket: string; timeout: number }) => {
      const print = (status: StatusReport) => {
        if (opts.json === true) process.stdout.write(`${JSON.stringify(status)}\n`);
        else {
          if (opts.watch === true) process.stdout.write('\x1b[2J\x1b[H');
          process.stdout.write(`${statusTable(status)}\n`);
        }
      };
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      try {
        await controlRequest(
          opts.socket,
          { command: opts.watch === true ? 'watch' : 'status' },
          (response) => {
            if (!response.ok) throw new ControlClientError('refused', response.error);
            if (!('status' in response)) throw new ControlClientError('bad_response', 'the daemon answered with something other than a status');
            print(response.status);
          },
          { signal: abort.signal, timeoutMs: opts.timeout },
        );
      } catch (error) {
        process.stderr.write(`keepvip status: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    });
}
