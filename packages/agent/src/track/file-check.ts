/** A tracked file: its content is a number (keepalived track_file); re-read when it changes. */
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';

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
      const text = (await readFile(this.path, 'utf8')).trim();
      const parsed = Number.parseInt(text, 10);
      if (Number.isNaN(parsed)) problem = `${this.path} does not hold a number`;
      else value = parsed;
    } catch (error) {
      problem = `${this.path} cannot be read: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (value !== this.value || problem !== undefined) {
      this.value = value;
      this.onChange(value, problem);
    }
  }
}
