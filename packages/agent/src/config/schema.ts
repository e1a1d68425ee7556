/**
 * The keepvip configuration file, as a typed schema. Shape and ranges are checked here; checks
 * across fields (families, VRID uniqueness, sync groups) in validate.ts. Every error carries
 * its path, and all of them are reported at once.
 */
import { isIP } from 'node:net';
import * as v from 'valibot';
import { formatDurationMs, parseDurationMs } from './duration.js';
import { parseVip, type VipSpec } from './addresses.js';

const show = (input: unknown): string =>
  typeof input === 'string' ? `"${input}"` : typeof input === 'number' ? String(input) : (JSON.stringify(input) ?? String(input));

/** The offending value, then `tail`: `"x": version is 2 or 3`. */
const showing = (tail: string) => (issue: v.BaseIssue<unknown>) => `${show(issue.input)}${tail}`;
/** A value of the wrong type: `5 is not a string`; none at all (left out, or empty in YAML): "is required". */
const wrongType = (what: string) => (issue: v.BaseIssue<unknown>) => (issue.input == null ? 'is required' : `${show(issue.input)} is not ${what}`);

/**
 * Text that may reach a path, a command or a socket: node:fs and child_process throw on a NUL
 * byte (a notify command with one would stop the daemon at its first transition).
 */
const text = () =>
  v.pipe(
    v.string(wrongType('a string')),
    v.check((value) => !value.includes('\0'), 'contains a NUL byte (\\0), which no path or command can hold'),
  );
const nonEmpty = () => v.pipe(text(), v.minLength(1, 'Too small: expected string to have >=1 characters'));
const flag = () => v.boolean(wrongType('true or false'));
const list = <T extends v.GenericSchema>(item: T) => v.array(item, wrongType('a list'));
const oneOf = <const T extends readonly string[]>(options: T) =>
  v.picklist(options, `Invalid option: expected one of ${options.map((o) => `"${o}"`).join('|')}`);

const notMapping = wrongType('a mapping');
const arrayAsMapping = v.never(notMapping);

/**
 * A mapping whose unknown keys are errors. valibot stops at the first unknown key, so the
 * message names them all (validate.ts reports it at the mapping's own path); a left-out key
 * "is required". valibot takes an array for an object: rejected first.
 */
function strict<const E extends v.ObjectEntries>(entries: E) {
  const object = v.strictObject(entries, (issue) => {
    if (issue.expected !== 'never') return notMapping(issue);
    const unknown = Object.keys(issue.path?.[0]?.input ?? {}).filter((key) => !Object.hasOwn(entries, key));
    return `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`;
  });
  return v.lazy((input) => (Array.isArray(input) ? arrayAsMapping : object));
}

function integer(min: number, max: number) {
  return v.pipe(
    v.number(wrongType('a number')),
    v.integer(showing(' is not a whole number')),
    v.check((n) => !Number.isInteger(n) || (n >= min && n <= max), showing(` is out of range ${min}..${max}`)),
  );
}

const notDuration = (input: unknown) => `${show(input)} is not a duration like "1s" or "100ms"`;

/** Every duration ends up in a Node timer, which fires at once (a busy loop) beyond 2^31-1 ms. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** "1s", "100ms"; a bare number is taken as seconds, as keepalived does. Defaults are written the same way. */
const duration = v.pipe(
  v.union([v.string(), v.number()], (issue) => notDuration(issue.input)),
  v.rawTransform<string | number, number>(({ dataset: { value }, addIssue, NEVER }) => {
    const ms = typeof value === 'number' ? value * 1000 : parseDurationMs(value);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
      addIssue({ message: notDuration(value) });
      return NEVER;
    }
    if (ms > MAX_DURATION_MS) {
      addIssue({ message: `${show(value)} is too long: at most ${MAX_DURATION_MS} ms (about 24.8 days)` });
      return NEVER;
    }
    return ms;
  }),
);

/** A duration that sets how often something repeats: 0 would be a busy loop. */
const period = (minMs: number) =>
  v.pipe(
    duration,
    v.check((ms) => ms >= minMs, (issue) => `${formatDurationMs(issue.input as number)} is too short: at least ${formatDurationMs(minMs)}`),
  );

const utf8Bytes = (text: string): number => new TextEncoder().encode(text).length;

/**
 * The problem with a Linux interface name, or undefined: the kernel's dev_valid_name allows 1..15
 * bytes (IFNAMSIZ, 16 with the NUL), not "." or "..", and no "/", ":" or whitespace. Control
 * characters are refused too: they would only garble logs.
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  const bytes = utf8Bytes(name);
  if (bytes > 15) return `is ${bytes} bytes long; a Linux interface name has at most 15`;
  if (name === '.' || name === '..') return 'is not an interface name';
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  const bad = /[/:\s\u0000-\u001f\u007f]/u.exec(name)?.[0];
  if (bad !== undefined) return `contains ${JSON.stringify(bad)}, which a Linux interface name cannot`;
  return undefined;
}

const interfaceName = () =>
  v.pipe(
    text(),
    v.rawCheck(({ dataset, addIssue }) => {
      // One message per name: a NUL byte is already reported by text().
      if (!dataset.typed || dataset.issues !== undefined) return;
      const problem = interfaceNameProblem(dataset.value);
      // JSON quoting: a control character in the name must not reach a terminal raw.
      if (problem !== undefined) addIssue({ message: `${JSON.stringify(dataset.value)} ${problem}` });
    }),
  );

/** host:port for the metrics listener; an IPv6 host may be bracketed ([::1]:9650). What is wrong, or undefined. */
export function metricsListenProblem(text: string): string | undefined {
  const match = /^(.*):(\d{1,5})$/.exec(text);
  if (match === null) return 'is not host:port';
  const host = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return `has port ${port}, outside 1..65535`;
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) {
    return `has host ${JSON.stringify(host)}, which is neither an IP address nor a host name`;
  }
  return undefined;
}

/** sun_path holds 108 bytes with the NUL: a longer path fails only when the daemon listens. */
const MAX_UNIX_PATH_BYTES = 107;

const vip = v.pipe(
  v.string(wrongType('an address')),
  v.rawTransform<string, VipSpec>(({ dataset: { value }, addIssue, NEVER }) => {
    const parsed = parseVip(value);
    if (typeof parsed === 'string') {
      addIssue({ message: parsed });
      return NEVER;
    }
    return parsed;
  }),
);

const address = v.pipe(
  v.string(wrongType('an IP address')),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const parsed = dataset.value.includes('/') ? `${show(dataset.value)} is not an IP address` : parseVip(dataset.value);
    if (typeof parsed === 'string') addIssue({ message: parsed });
  }),
);

const announce = v.optional(
  strict({
    /** Gratuitous ARPs / NAs per burst on becoming Master (keepalived garp_master_repeat). */
    repeat: v.optional(integer(1, 100), 5),
    /** Gap between the frames of one burst (keepalived garp_interval). */
    interval: v.optional(duration, '0s'),
    /** When the second burst of `repeat` goes (keepalived garp_master_delay); 0 = none. */
    delay: v.optional(duration, '5s'),
    /** Periodic re-announcement while Master (keepalived garp_master_refresh); 0 = off. */
    refresh: v.optional(duration, '0s'),
  }),
  {},
);

const trackInterface = strict({
  name: interfaceName(),
  /** Omitted: the instance goes to Fault while the interface is down. */
  weight: v.optional(integer(-254, 254)),
});

const trackScript = strict({
  name: v.optional(nonEmpty()),
  command: v.pipe(text(), v.minLength(1, 'is empty')),
  interval: v.optional(period(10), '1s'),
  timeout: v.optional(duration, '2s'),
  rise: v.optional(integer(1, 1000), 1),
  fall: v.optional(integer(1, 1000), 1),
  /** Omitted: the instance goes to Fault while the script fails. */
  weight: v.optional(integer(-254, 254)),
});

const trackFile = strict({
  path: nonEmpty(),
  /** The file holds a number; the effective priority moves by number * weight (keepalived). */
  weight: v.optional(integer(-254, 254), 1),
});

const notify = v.optional(
  strict({
    master: v.optional(nonEmpty()),
    backup: v.optional(nonEmpty()),
    fault: v.optional(nonEmpty()),
    stop: v.optional(nonEmpty()),
    /** Called on every transition with keepalived's arguments: INSTANCE <name> <state> <priority>. */
    any: v.optional(nonEmpty()),
    timeout: v.optional(duration, '10s'),
  }),
);

const auth = strict({
  type: v.literal('password', showing(': only "password" (VRRPv2 simple text) exists')),
  password: v.pipe(
    nonEmpty(),
    // The wire field is 8 bytes (RFC 3768 §5.3.10); "é" takes two of them.
    v.check((password) => utf8Bytes(password) <= 8, (issue) => `is ${utf8Bytes(issue.input)} bytes long; VRRPv2 carries at most 8`),
  ),
});

/** An instance's fields, one by one: validate.ts also checks them apart (see `usableFields`). */
export const instanceEntries = {
  name: v.pipe(text(), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, showing(': use 1..64 letters, digits, "_", "-" or "."'))),
  interface: interfaceName(),
  vrid: integer(1, 255),
  version: v.optional(v.picklist([2, 3], showing(': version is 2 or 3')), 3),
  priority: v.optional(integer(1, 255), 100),
  advertInterval: v.optional(duration, '1s'),
  preempt: v.optional(flag(), true),
  preemptDelay: v.optional(duration, '0s'),
  /**
   * RFC 5798 Accept_Mode. On by default, as keepalived behaves outside strict mode and as a
   * VIP serving traffic (an ingress) needs; off drops packets to the VIPs unless owner.
   */
  acceptMode: v.optional(flag(), true),
  downTimerAdverts: v.optional(integer(3, 60), 3),
  reassertOnLowerPriority: v.optional(flag(), true),
  vips: v.pipe(list(vip), v.minLength(1, 'needs at least one address')),
  unicastPeers: v.optional(list(address), []),
  /**
   * VRRPv3 over IPv4: checksum the VRRP message alone, without the pseudo-header, for peers
   * that do so (RFC 5798 and keepalived include it). Off by default.
   */
  v3ChecksumWithoutPseudoHeader: v.optional(flag(), false),
  auth: v.optional(auth),
  announce,
  track: v.optional(
    strict({
      interfaces: v.optional(list(trackInterface), []),
      scripts: v.optional(list(trackScript), []),
      files: v.optional(list(trackFile), []),
    }),
    {},
  ),
  notify,
};

export const instanceSchema = strict(instanceEntries);

export const syncGroupEntries = {
  name: nonEmpty(),
  instances: v.pipe(list(nonEmpty()), v.minLength(2, 'a sync group needs at least two instances')),
  notify,
};

export const syncGroupSchema = strict(syncGroupEntries);

export const configSchema = strict({
  global: v.optional(
    strict({
      statusSocket: v.optional(
        v.pipe(
          nonEmpty(),
          v.check((path) => utf8Bytes(path) <= MAX_UNIX_PATH_BYTES, (issue) => `is ${utf8Bytes(issue.input)} bytes long; a unix socket path has at most ${MAX_UNIX_PATH_BYTES}`),
        ),
        '/run/keepvip/keepvip.sock',
      ),
      metrics: v.optional(
        strict({
          listen: v.pipe(
            text(),
            v.rawCheck(({ dataset, addIssue }) => {
              const problem = dataset.typed ? metricsListenProblem(dataset.value) : undefined;
              if (problem !== undefined) addIssue({ message: `${show(dataset.value)} ${problem}` });
            }),
          ),
        }),
      ),
      log: v.optional(
        strict({
          format: v.optional(oneOf(['json', 'pretty']), 'json'),
          level: v.optional(oneOf(['error', 'warn', 'info', 'debug']), 'info'),
        }),
        {},
      ),
      /** Reconcile the kernel's addresses against the desired ones this often. */
      reconcileInterval: v.optional(period(100), '5s'),
    }),
    {},
  ),
  // None is valid: with `keepvip run --kubernetes` the controller's instances may be all there is
  // (`keepvip run` without it refuses a file that has none).
  instances: v.optional(list(instanceSchema), []),
  syncGroups: v.optional(list(syncGroupSchema), []),
});

export type InstanceSpec = v.InferOutput<typeof instanceSchema>;
export type SyncGroupSpec = v.InferOutput<typeof syncGroupSchema>;
export type KeepvipConfig = v.InferOutput<typeof configSchema>;
