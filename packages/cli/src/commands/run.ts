import type { Command } from 'commander';
import { ConfigError, createLinuxDataPlane, createLogger, Daemon, loadConfigFile, type LogFormat } from '@keepvip/agent';

interface RunOptions {
  config: string;
  socket?: string;
  logFormat?: LogFormat;
  logLevel?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the VRRP instances of a configuration file')
    .requiredOption('-c, --config <file>', 'YAML configuration')
    .option('-s, --socket <path>', 'control socket (overrides global.statusSocket)')
    .option('--log-format <format>', 'json or pretty (overrides global.log.format)')
    .option('--log-level <level>', 'error, warn, info or debug (overrides global.log.level)')
    .action(async (opts: RunOptions) => {
      let logger;
      try {
        const { config } = await loadConfigFile(opts.config);
        logger = createLogger({ format: opts.logFormat ?? config.global.log.format, level: opts.logLevel ?? config.global.log.level });
      } catch (error) {
        process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
        process.exitCode = 1;
        return;
      }
      const daemon = new Daemon({
        configFile: opts.config,
        dataPlane: createLinuxDataPlane(),
        logger,
        ...(opts.socket === undefined ? {} : { statusSocket: opts.socket }),
      });
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info(`${signal}: stopping`);
        daemon.shutdown().then(
          () => exitAfterOutput(0),
          (error: unknown) => {
            logger.error(`shutdown failed: ${String(error)}`);
            exitAfterOutput(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => void daemon.reload());
      try {
        await daemon.start();
      } catch (error) {
        logger.error(error instanceof Error ? error.message : String(error));
        await daemon.shutdown().catch(() => undefined);
        exitAfterOutput(1);
      }
    });
}

/**
 * Exits once stderr (the logs) and stdout have taken everything written: process.exit()
 * drops what a slow reader of a pipe (a container runtime, a busy log shipper) has not read
 * yet, and the last lines of a shutdown are the ones an operator looks for. At most 2 s.
 */
function exitAfterOutput(code: number): void {
  process.stderr.write('', () => process.stdout.write('', () => process.exit(code)));
  // A reader that never reads must not keep a stopping daemon alive.
  setTimeout(() => process.exit(code), 2_000).unref();
}
