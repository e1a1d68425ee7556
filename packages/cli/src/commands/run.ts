import type { Command } from 'commander';
import { ConfigError, createLinuxDataPlane, createLogger, Daemon, DaemonLock, DaemonLockedError, loadConfigFile, type LogFormat, type Logger } from '@keepvip/agent';
import { durationMs } from '../duration-option.js';

interface RunOptions {
  config: string;
  socket?: string;
  lock?: string;
  controlTimeout?: number;
  logFormat?: LogFormat;
  logLevel?: string;
}

/** A stop that takes longer than this is abandoned: the process must end. */
const SHUTDOWN_DEADLINE_MS = 10_000;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the VRRP instances of a configuration file')
    .requiredOption('-c, --config <file>', 'YAML configuration')
    .option('-s, --socket <path>', 'control socket (overrides global.statusSocket)')
    .option('--lock <path>', 'node lock file (default: one per network namespace under /run/keepvip)')
    .option('--control-timeout <duration>', 'control socket: time a client has to send its request line (default 5s)', durationMs)
    .option('--log-format <format>', 'json or pretty (overrides global.log.format)')
    .option('--log-level <level>', 'error, warn, info or debug (overrides global.log.level)')
    .action(async (opts: RunOptions) => {
      let logger: Logger;
      let statusSocket: string;
      try {
        const { config } = await loadConfigFile(opts.config);
        logger = createLogger({ format: opts.logFormat ?? config.global.log.format, level: opts.logLevel ?? config.global.log.level });
        statusSocket = opts.socket ?? config.global.statusSocket;
      } catch (error) {
        process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
        process.exitCode = 1;
        return;
      }
      // Before anything is touched: a second daemon must not purge the first's VIPs or socket.
      let lock: DaemonLock;
      try {
        lock = DaemonLock.acquire({ statusSocket, ...(opts.lock === undefined ? {} : { node: opts.lock }) });
      } catch (error) {
        const fields = error instanceof DaemonLockedError ? { lock: error.path, holderPid: error.holderPid } : {};
        logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`, fields);
        exitAfterOutput(1);
        return;
      }
      const daemon = new Daemon({
        configFile: opts.config,
        dataPlane: createLinuxDataPlane(),
        logFlags: { format: opts.logFormat, level: opts.logLevel },
        ...(opts.socket === undefined ? {} : { statusSocket: opts.socket }),
        ...(opts.controlTimeout === undefined ? {} : { controlIdleTimeoutMs: opts.controlTimeout }),
      });
      let stopping = false;
      const stop = (why: string, code: number) => {
        if (stopping) return;
        stopping = true;
        logger.info(`${why}: stopping`);
        setTimeout(() => {
          logger.error(`the graceful stop took over ${SHUTDOWN_DEADLINE_MS} ms: exiting`);
          exitAfterOutput(1);
        }, SHUTDOWN_DEADLINE_MS).unref();
        daemon.shutdown().then(
          () => {
            // Only now: a new daemon may start once this one's VIPs and socket are gone.
            lock.release();
            exitAfterOutput(code);
          },
          (error: unknown) => {
            logger.error(`shutdown failed: ${String(error)}`);
            exitAfterOutput(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM', 0));
      process.on('SIGINT', () => stop('SIGINT', 0));
      process.on('SIGHUP', () => void daemon.reload());
      // A bug must not leave VIPs on a node whose daemon is gone (a second holder in the
      // making): priority 0 and the VIPs removed first, then exit 1.
      const fatal = (kind: string) => (error: unknown) => {
        logger.error(`${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        stop(kind, 1);
      };
      process.on('uncaughtException', fatal('uncaught exception'));
      process.on('unhandledRejection', fatal('unhandled rejection'));
      try {
        await daemon.start();
      } catch (error) {
        logger.error(error instanceof Error ? error.message : String(error));
        stop('start failed', 1);
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
