/**
 * One carrier watch per interface, shared by everyone who cares: the instances on it and
 * the instances that track it.
 */
import type { DataPlane } from './ports.js';

interface Watch {
  up: boolean;
  readonly listeners: Set<(up: boolean) => void>;
  stop: () => void;
}

export class LinkRegistry {
  private readonly watches = new Map<string, Promise<Watch>>();

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly onChange: (ifname: string, up: boolean) => void,
  ) {}

  /** Calls `listener` with the carrier now and on each change; returns an unsubscribe. */
  async subscribe(ifname: string, listener: (up: boolean) => void): Promise<() => void> {
    let opening = this.watches.get(ifname);
    if (opening === undefined) {
      opening = this.open(ifname);
      this.watches.set(ifname, opening);
      opening.catch(() => this.watches.delete(ifname));
    }
    const watch = await opening;
    watch.listeners.add(listener);
    listener(watch.up);
    return () => {
      watch.listeners.delete(listener);
      if (watch.listeners.size > 0) return;
      watch.stop();
      this.watches.delete(ifname);
    };
  }

  async stopAll(): Promise<void> {
    for (const opening of this.watches.values()) (await opening.catch(() => undefined))?.stop();
    this.watches.clear();
  }

  private async open(ifname: string): Promise<Watch> {
    const watch: Watch = { up: true, listeners: new Set(), stop: () => {} };
    let known: boolean | undefined;
    watch.stop = await this.dataPlane.watchLink(ifname, (up) => {
      if (up === known) return;
      // The first call is the state at start, not a change worth reporting.
      if (known !== undefined) this.onChange(ifname, up);
      known = up;
      watch.up = up;
      for (const listener of watch.listeners) listener(up);
    });
    return watch;
  }
}
