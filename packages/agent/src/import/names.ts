/**
 * keepvip names are 1..64 of [A-Za-z0-9_.-] (they appear in logs, metrics labels and the
 * status socket); keepalived takes any word. Other characters become "_", and a clash after
 * that gets a numeric suffix, so every instance keeps a distinct name.
 */
const MAX = 64;

export class NameAllocator {
  private readonly taken = new Set<string>();

  /** The keepvip name for `original`; equal to it whenever that is already valid and free. */
  allocate(original: string): string {
    const base = (original.replace(/[^A-Za-z0-9_.-]/g, '_') || 'instance').slice(0, MAX);
    let name = base;
    for (let n = 2; this.taken.has(name); n++) {
      const suffix = `-${n}`;
      name = base.slice(0, MAX - suffix.length) + suffix;
    }
    this.taken.add(name);
    return name;
  }
}
