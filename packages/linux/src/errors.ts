/**
 * Exceptional failures of the data plane. Each carries a stable `code`: an errno name
 * from the kernel ("EPERM", "ENODEV", ...) or one of our own upper-case codes. Expected
 * per-packet outcomes are never errors: they are counted drop reasons.
 */
export class LinuxNetError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(`${message} (${code})`, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A socket call failed; `code` is the errno name. */
export class SocketError extends LinuxNetError {}

/** A netlink request was rejected by the kernel or timed out; `code` is the errno name. */
export class NetlinkError extends LinuxNetError {}

/** The named interface does not exist (in this network namespace). */
export class InterfaceNotFoundError extends LinuxNetError {
  constructor(ifname: string) {
    super('ENODEV', `no interface named ${JSON.stringify(ifname)}`);
  }
}

/** The interface exists but lacks something we need (a MAC, a primary or link-local address). */
export class InterfaceAddressError extends LinuxNetError {}

/** The native addon has not been built (`pnpm --filter @keepvip/linux build:native`). */
export class AddonNotBuiltError extends LinuxNetError {}

/** An argument was malformed (an address that does not parse, a bad option). */
export class InvalidArgumentError extends LinuxNetError {
  constructor(message: string) {
    super('EINVAL', message);
  }
}
