/**
 * One carrier watch per interface, shared by everyone who cares: the instances on it and
 * the instances that track it.
 */
import type { DataPlane, LinkState } from './ports.js';

export type LinkListener = (state: LinkState) => void;

interface Watch {
  state: LinkState;
  readonly listeners: Set<LinkListener>;
  stop: () => void;
}

export class LinkRegistry {
  private readonly watches = new Map<string, Promise<Watch>>();

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly onChange: (ifname: string, state: LinkState) => void,
  ) {}

  /** Calls `listener` with the link now and on each change; returns an unsubscribe. */
  async subscribe(ifname: string, listener: LinkListener): Promise<() => void> {
    let opening = this.watches.get(ifname);
    if (opening === undefined) {
      opening = this.open(ifname);
      this.watches.set(ifname, opening);
      opening.catch(() => this.watches.delete(ifname));
    }
    const watch = await opening;
    watch.listeners.add(listener);
    listener(watch.state);
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
    const watch: Watch = { state: { up: true, ifindex: 0 }, listeners: new Set(), stop: () => {} };
    let known: LinkState | undefined;
    watch.stop = await this.dataPlane.watchLink(ifname, (state) => {
      if (state.up === known?.up && state.ifindex === known.ifindex) return;
      // The first call is the state at start, not a change worth reporting.
      if (known !== undefined) this.onChange(ifname, state);
      known = state;
      watch.state = state;
      for (const listener of watch.listeners) listener(state);
    });
    return watch;
  }
}
