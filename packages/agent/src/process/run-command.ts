/**
 * Runs an operator's command (track script, notify hook) without ever blocking the advert
 * loop: asynchronous, in its own process group so a hung script and its children are all
 * killed at the timeout.
 */
import { spawn } from 'node:child_process';

export type CommandOutcome =
  | { readonly kind: 'exited'; readonly code: number; readonly durationMs: number }
  | { readonly kind: 'signalled'; readonly signal: string; readonly durationMs: number }
  | { readonly kind: 'timed_out'; readonly durationMs: number }
  | { readonly kind: 'failed_to_start'; readonly message: string; readonly durationMs: number };

export function succeeded(outcome: CommandOutcome): boolean {
  return outcome.kind === 'exited' && outcome.code === 0;
}

export function describeOutcome(outcome: CommandOutcome): string {
  switch (outcome.kind) {
    case 'exited':
      return `exit ${outcome.code}`;
    case 'signalled':
      return `killed by ${outcome.signal}`;
    case 'timed_out':
      return `timed out after ${Math.round(outcome.durationMs)} ms`;
    case 'failed_to_start':
      return `could not start: ${outcome.message}`;
  }
}

/**
 * `command` is shell text, as in keepalived's configuration; `args` are appended as separate,
 * unquoted-safe arguments ("$@"), never spliced into the text.
 */
export function runCommand(command: string, args: readonly string[], timeoutMs: number): Promise<CommandOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `${command} "$@"`, 'keepvip', ...args], { detached: true, stdio: 'ignore' });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ kind: 'failed_to_start', message: error.message, durationMs: elapsed() });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ kind: 'timed_out', durationMs: elapsed() });
      else if (code !== null) resolve({ kind: 'exited', code, durationMs: elapsed() });
      else resolve({ kind: 'signalled', signal: signal ?? 'unknown', durationMs: elapsed() });
    });
  });
}
