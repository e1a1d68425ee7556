import type { Command } from 'commander';
import { ConfigError, createLinuxDataPlane, createLinuxNatBindings, createLogger, Daemon, DaemonLock, DaemonLockedError, emptyConfig, loadConfigFile, metricsListenProblem, type LogFormat, type Logger } from '@keepvip/agent';
import type { ControllerCounters } from '@keepvip/controller';
import { durationMs } from '../duration-option.js';
import { parseKubeFlags, plannerOptions } from '../kube-options.js';
import type { ControllerSettings, RunningController } from '../kubernetes.js';

interface RunOptions {
  config?: string;
  kubernetes?: boolean;
  kubeconfig?: string;
  nodeName?: string;
  vipConfigmap: string;
  vridRange: string;
  defaultClass?: boolean;
  unicast?: boolean;
  interface?: string;
  advertInterval?: string;
  socket?: string;
  metricsListen?: string;
  lock?: string;
  controlTimeout?: number;
  logFormat?: LogFormat;
  logLevel?: string;
}

/** A stop that takes longer than this is abandoned: the process must end. */
const SHUTDOWN_DEADLINE_MS = 10_000;

export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('run the VRRP instances of a configuration file and, with --kubernetes, those the cluster asks of this node')
    .option('-c, --config <file>', 'YAML configuration (optional with --kubernetes)')
    .option('--kubernetes', 'run the controller: VIPs from the VIP ConfigMap and LoadBalancer Services')
    .option('--kubeconfig <file>', 'with --kubernetes: a kubeconfig (default: the in-cluster ServiceAccount)')
    .option('--node-name <name>', 'with --kubernetes: this Node’s name (default: $NODE_NAME)')
    .option('--advert-interval <duration>', 'with --kubernetes: the advert interval of the planned instances (default 1s)')
    .option('-s, --socket <path>', 'control socket (overrides global.statusSocket)')
    .option('--metrics-listen <host:port>', '/metrics and /healthz on this address (overrides global.metrics.listen)')
    .option('--lock <path>', 'node lock file (default: one per network namespace under /run/keepvip)')
    .option('--control-timeout <duration>', 'control socket: time a client has to send its request line (default 5s)', durationMs)
    .option('--log-format <format>', 'json or pretty (overrides global.log.format)')
    .option('--log-level <level>', 'error, warn, info or debug (overrides global.log.level)');
  plannerOptions(command, 'with --kubernetes: ').action(async (opts: RunOptions) => {
    let logger: Logger;
    let statusSocket: string;
    if (opts.config === undefined && opts.kubernetes !== true) return usage('--config is required (optional only with --kubernetes)');
    const listenProblem = opts.metricsListen === undefined ? undefined : metricsListenProblem(opts.metricsListen);
    if (listenProblem !== undefined) return usage(`--metrics-listen: ${JSON.stringify(opts.metricsListen)} ${listenProblem}`);
    const kube = opts.kubernetes === true ? await kubernetesSettings(opts) : undefined;
    if (typeof kube === 'string') return usage(kube);
    try {
      const config = opts.config === undefined ? emptyConfig() : (await loadConfigFile(opts.config)).config;
      if (kube === undefined && config.instances.length === 0) return usage(`${opts.config ?? ''} has no instances: nothing to run (add some, or run with --kubernetes)`);
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
    // Loaded only here: @kubernetes/client-node is for --kubernetes alone.
    const controllerModule = kube === undefined ? undefined : await import('@keepvip/controller');
    const wiring = kube === undefined ? undefined : await import('../kubernetes.js');
    const counters: ControllerCounters | undefined = controllerModule?.newControllerCounters();
    const daemon = new Daemon({
      ...(opts.config === undefined ? {} : { configFile: opts.config }),
      ...(counters === undefined ? {} : { controllerMetrics: counters }),
      dataPlane: createLinuxDataPlane(),
      // The controller binds Service ports to VIPs (issue 12): nftables table inet keepvip_nat.
      ...(kube === undefined ? {} : { natBindings: createLinuxNatBindings() }),
      logFlags: { format: opts.logFormat, level: opts.logLevel },
      ...(opts.socket === undefined ? {} : { statusSocket: opts.socket }),
      ...(opts.metricsListen === undefined ? {} : { metricsListen: opts.metricsListen }),
      ...(opts.controlTimeout === undefined ? {} : { controlIdleTimeoutMs: opts.controlTimeout }),
    });
    let controller: RunningController | undefined;
    let stopping = false;
    const stop = (why: string, code: number) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${why}: stopping`);
      setTimeout(() => {
        logger.error(`the graceful stop took over ${SHUTDOWN_DEADLINE_MS} ms: exiting`);
        exitAfterOutput(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
      // The loop first (nothing is applied after it), then the daemon: priority 0, VIPs removed.
      const stopController = (controller?.stop() ?? Promise.resolve()).catch((error: unknown) => logger.warn(`the Kubernetes controller did not stop cleanly: ${String(error)}`));
      stopController.then(() => daemon.shutdown()).then(
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
      return;
    }
    // Synchronous from here to `controller` being set: a stop cannot slip in between.
    if (kube === undefined || controllerModule === undefined || wiring === undefined || counters === undefined || stopping) return;
    try {
      const { KubeCluster, loadKubeConfig } = controllerModule;
      const cluster = new KubeCluster({ kubeConfig: loadKubeConfig(opts.kubeconfig), nodeName: kube.nodeName, vipConfigMap: kube.vipConfigMap, logger, counters });
      controller = wiring.startController(kube, cluster, (instances) => daemon.apply(instances), logger);
      // Said once, for the operator: until then this node runs only the file's instances.
      cluster.waitForSync(30_000).then(
        () => logger.info('Kubernetes informers synced'),
        (error: unknown) => logger.warn(error instanceof Error ? error.message : String(error)),
      );
    } catch (error) {
      logger.error(`cannot start the Kubernetes controller: ${error instanceof Error ? error.message : String(error)}`);
      stop('controller start failed', 1);
    }
  });
}

/** The flags of --kubernetes checked before anything starts; a string says what is wrong. */
async function kubernetesSettings(opts: RunOptions): Promise<ControllerSettings | string> {
  const flags = parseKubeFlags(opts);
  if (!flags.ok) return flags.error;
  const nodeName = opts.nodeName ?? process.env['NODE_NAME'];
  if (nodeName === undefined || nodeName === '') return '--kubernetes needs the Node’s name: --node-name or NODE_NAME (the DaemonSet sets it from spec.nodeName)';
  const { first, last } = flags.vridRange;
  if (first < 1 || last > 255 || first > last) return `--vrid-range: "${opts.vridRange}" is not within 1-255 with FIRST <= LAST`;
  const template = opts.advertInterval === undefined ? {} : { advertInterval: opts.advertInterval };
  const { checkTemplate } = await import('../kubernetes.js');
  const issues = checkTemplate(template);
  if (issues.length > 0) return `--advert-interval: ${issues.map((i) => i.replace(/^k8s-v4-1\.advertInterval: /, '')).join('; ')}`;
  return {
    nodeName,
    vipConfigMap: flags.vipConfigMap,
    vridRange: flags.vridRange,
    defaultClass: opts.defaultClass === true,
    unicast: opts.unicast === true,
    ...(opts.interface === undefined ? {} : { interface: opts.interface }),
    template,
  };
}

function usage(message: string): void {
  process.stderr.write(`keepvip run: ${message}\n`);
  process.exitCode = 2;
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
