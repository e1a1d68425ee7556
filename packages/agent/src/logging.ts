/** winston logging: JSON or pretty, one child logger per instance. */
import winston from 'winston';

export type LogFormat = 'json' | 'pretty';
export type Logger = winston.Logger;

export function createLogger(options: { format: LogFormat; level: string }): Logger {
  // Logs go to stderr so stdout stays free for command output.
  return winston.createLogger({
    level: options.level,
    format: logFormat(options.format),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

/**
 * Sets a logger's format and level in place (a reload): child loggers read both from their
 * parent, so every instance's logger follows.
 */
export function reconfigureLogger(logger: Logger, options: { format: LogFormat; level: string }): void {
  logger.format = logFormat(options.format);
  logger.level = options.level;
}

function logFormat(format: LogFormat): winston.Logform.Format {
  return format === 'json'
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, ...meta }) => {
            const fields = Object.entries(meta)
              .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
              .join(' ');
            return `${String(timestamp)} ${level} ${String(message)}${fields === '' ? '' : ` ${fields}`}`;
          }),
        );
}

/** Logs a repeated per-packet problem at most once per window, with how many were suppressed. */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly windowMs = 10_000) {}

  /** Returns the number suppressed since the last line when it is time to log, else undefined. */
  shouldLog(key: string, nowMs: number): number | undefined {
    const entry = this.last.get(key);
    if (entry !== undefined && nowMs - entry.at < this.windowMs) {
      entry.suppressed++;
      return undefined;
    }
    this.last.set(key, { at: nowMs, suppressed: 0 });
    return entry?.suppressed ?? 0;
  }
}
