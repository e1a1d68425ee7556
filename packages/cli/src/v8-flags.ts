/**
 * V8 settings for `keepvip run`, a process that lives for months and allocates a little on
 * every advert. V8 sizes its young generation for throughput (semi-spaces grow to 16 MiB or
 * more) and grows the old one between major collections; a daemon wants a small, steady
 * footprint instead (docs/benchmarks.md, Scale: RSS). Node reads these flags only at start,
 * so `run` re-executes itself with them (`process.execve`: same PID, nothing is lost, since
 * nothing has run yet). Imports nothing: it runs before the program is loaded.
 */

/**
 * One flag per V8 setting (measured in docs/benchmarks.md, Scale):
 * - a 1 MiB semi-space: the young generation stays small; the daemon allocates little per
 *   advert, so scavenges stay short;
 * - no TurboFan: the hot paths are short and Sparkplug/Maglev code runs them as fast here
 *   (CPU unchanged), without TurboFan's compiler code and zones in memory.
 * (`--single-threaded` saved a few MiB more but moved garbage collection onto the main
 * thread, which slowed a 255-instance takeover: left out.)
 */
export const DAEMON_V8_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-opt'];

/** Set to "off" to run with Node's own defaults (and no re-execution). */
export const V8_DEFAULTS_ENV = 'KEEPVIP_V8_DEFAULTS';

/**
 * The argument vector to re-execute with, or undefined when there is nothing to do: not
 * `run`, turned off, or every setting already given (by us, by the operator on the command
 * line, or in NODE_OPTIONS, which then win).
 */
export function relaunchArgs(
  execPath: string,
  argv: readonly string[],
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] | undefined {
  if (argv[2] !== 'run' || env[V8_DEFAULTS_ENV] === 'off') return undefined;
  const given = [...execArgv, ...(env['NODE_OPTIONS'] ?? '').split(/\s+/)].map(settingOf);
  const missing = DAEMON_V8_FLAGS.filter((flag) => !given.includes(settingOf(flag)));
  if (missing.length === 0) return undefined;
  return [execPath, ...execArgv, ...missing, ...argv.slice(1)];
}

/**
 * `--max-semi-space-size=1` and `--max_semi_space_size=1` name the same setting, and so do
 * `--opt` and `--no-opt`.
 */
function settingOf(flag: string): string {
  return (flag.split('=')[0] ?? '').replace(/_/g, '-').replace(/^--no-/, '--');
}
