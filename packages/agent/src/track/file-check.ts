/** A tracked file: its content is a number (keepalived track_file); re-read when it changes. */
import { unwatchFile, watchFile } from 'node:fs';
import { readErrorText, readRegularFileAsync } from '../config/read-file.js';

/** A number and a newline; more is not a track file. */
const MAX_TRACK_FILE_BYTES = 64;

export class FileCheck {
  value = 0;
  private listener: (() => void) | undefined;

  constructor(
    readonly path: string,
    private readonly onChange: (value: number, problem: string | undefined) => void,
    private readonly pollMs = 500,
  ) {}

  async start(): Promise<void> {
    await this.read();
    // stat polling rather than inotify: works for files replaced by rename and on every filesystem.
    this.listener = () => void this.read();
    watchFile(this.path, { interval: this.pollMs, persistent: false }, this.listener);
  }

  stop(): void {
    if (this.listener !== undefined) unwatchFile(this.path, this.listener);
  }

  private async read(): Promise<void> {
    let value = 0;
    let problem: string | undefined;
    try {
      // Bounded and non-blocking: a FIFO here held the daemon's start (and reloads) forever.
      const read = await readRegularFileAsync(this.path, MAX_TRACK_FILE_BYTES);
      const parsed = read.ok ? Number.parseInt(read.text.trim(), 10) : Number.NaN;
      if (!read.ok) problem = `${this.path} ${read.reason}`;
      else if (Number.isNaN(parsed)) problem = `${this.path} does not hold a number`;
      else value = parsed;
    } catch (error) {
      problem = `${this.path} cannot be read: ${readErrorText(error)}`;
    }
    if (value !== this.value || problem !== undefined) {
      this.value = value;
      this.onChange(value, problem);
    }
  }
}
