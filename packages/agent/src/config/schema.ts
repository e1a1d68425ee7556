/**
 * The keepvip configuration file, as a typed schema. Shape and ranges are checked here; checks
 * across fields (families, VRID uniqueness, sync groups) in validate.ts. Every error carries
 * its path, and all of them are reported at once.
 */
import { z } from 'zod';
import { parseDurationMs } from './duration.js';
import { parseVip, type VipSpec } from './addresses.js';

const show = (input: unknown): string => (typeof input === 'string' ? `"${input}"` : JSON.stringify(input) ?? String(input));

function integer(min: number, max: number) {
  const outOfRange = (iss: { input?: unknown }) => `${show(iss.input)} is out of range ${min}..${max}`;
  return z
    .number({ error: (iss) => `${show(iss.input)} is not a number` })
    .int({ error: (iss) => `${show(iss.input)} is not a whole number` })
    .min(min, { error: outOfRange })
    .max(max, { error: outOfRange });
}

/** "1s", "100ms"; a bare number is taken as seconds, as keepalived does. */
const duration = z
  .union([z.string(), z.number()], { error: (iss) => `${show(iss.input)} is not a duration like "1s" or "100ms"` })
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value * 1000 : parseDurationMs(value);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `${show(value)} is not a duration like "1s" or "100ms"` });
      return z.NEVER;
    }
    return ms;
  });

const vip = z.string({ error: (iss) => `${show(iss.input)} is not an address` }).transform((text, ctx): VipSpec => {
  const parsed = parseVip(text);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

const address = z.string().refine((text) => typeof parseVip(text) !== 'string' && !text.includes('/'), {
  error: (iss) => `${show(iss.input)} is not an IP address`,
});

const announce = z
  .strictObject({
    /** Gratuitous ARPs / NAs per burst on becoming Master (keepalived garp_master_repeat). */
    repeat: integer(1, 100).default(5),
    /** Gap between the frames of one burst (keepalived garp_interval). */
    interval: duration.default(0),
    /** When the second burst of `repeat` goes (keepalived garp_master_delay); 0 = none. */
    delay: duration.default(5000),
    /** Periodic re-announcement while Master (keepalived garp_master_refresh); 0 = off. */
    refresh: duration.default(0),
  })
  .default({ repeat: 5, interval: 0, delay: 5000, refresh: 0 });

const trackInterface = z.strictObject({
  name: z.string().min(1),
  /** Omitted: the instance goes to Fault while the interface is down. */
  weight: integer(-254, 254).optional(),
});

const trackScript = z.strictObject({
  name: z.string().min(1).optional(),
  command: z.string().min(1, { error: 'is empty' }),
  interval: duration.default(1000),
  timeout: duration.default(2000),
  rise: integer(1, 1000).default(1),
  fall: integer(1, 1000).default(1),
  /** Omitted: the instance goes to Fault while the script fails. */
  weight: integer(-254, 254).optional(),
});

const trackFile = z.strictObject({
  path: z.string().min(1),
  /** The file holds a number; the effective priority moves by number * weight (keepalived). */
  weight: integer(-254, 254).default(1),
});

const notify = z
  .strictObject({
    master: z.string().min(1).optional(),
    backup: z.string().min(1).optional(),
    fault: z.string().min(1).optional(),
    stop: z.string().min(1).optional(),
    /** Called on every transition with keepalived's arguments: INSTANCE <name> <state> <priority>. */
    any: z.string().min(1).optional(),
    timeout: duration.default(10_000),
  })
  .optional();

const auth = z.strictObject({
  type: z.literal('password', { error: (iss) => `${show(iss.input)}: only "password" (VRRPv2 simple text) exists` }),
  password: z
    .string()
    .min(1)
    .max(8, { error: (iss) => `is ${String(iss.input).length} characters long; VRRPv2 carries at most 8` }),
});

export const instanceSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: (iss) => `${show(iss.input)}: use 1..64 letters, digits, "_", "-" or "."` }),
  interface: z.string().regex(/^[^\s/]{1,15}$/, { error: (iss) => `${show(iss.input)} is not an interface name (1..15 characters)` }),
  vrid: integer(1, 255),
  version: z.union([z.literal(2), z.literal(3)], { error: (iss) => `${show(iss.input)}: version is 2 or 3` }).default(3),
  priority: integer(1, 255).default(100),
  advertInterval: duration.default(1000),
  preempt: z.boolean().default(true),
  preemptDelay: duration.default(0),
  /**
   * RFC 5798 Accept_Mode. On by default, as keepalived behaves outside strict mode and as a
   * VIP serving traffic (an ingress) needs; off drops packets to the VIPs unless owner.
   */
  acceptMode: z.boolean().default(true),
  downTimerAdverts: integer(3, 60).default(3),
  reassertOnLowerPriority: z.boolean().default(true),
  vips: z.array(vip).min(1, { error: 'needs at least one address' }),
  unicastPeers: z.array(address).default([]),
  /**
   * VRRPv3 over IPv4: checksum the VRRP message alone, without the pseudo-header, for peers
   * that do so (RFC 5798 and keepalived include it). Off by default.
   */
  v3ChecksumWithoutPseudoHeader: z.boolean().default(false),
  auth: auth.optional(),
  announce,
  track: z
    .strictObject({
      interfaces: z.array(trackInterface).default([]),
      scripts: z.array(trackScript).default([]),
      files: z.array(trackFile).default([]),
    })
    .default({ interfaces: [], scripts: [], files: [] }),
  notify,
});

export const syncGroupSchema = z.strictObject({
  name: z.string().min(1),
  instances: z.array(z.string().min(1)).min(2, { error: 'a sync group needs at least two instances' }),
  notify,
});

export const configSchema = z.strictObject({
  global: z
    .strictObject({
      statusSocket: z.string().min(1).default('/run/keepvip/keepvip.sock'),
      metrics: z.strictObject({ listen: z.string().regex(/^.+:\d{1,5}$/, { error: 'is not host:port' }) }).optional(),
      log: z
        .strictObject({
          format: z.enum(['json', 'pretty']).default('json'),
          level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
        })
        .default({ format: 'json', level: 'info' }),
      /** Reconcile the kernel's addresses against the desired ones this often. */
      reconcileInterval: duration.default(5000),
    })
    .default({ statusSocket: '/run/keepvip/keepvip.sock', log: { format: 'json', level: 'info' }, reconcileInterval: 5000 }),
  instances: z.array(instanceSchema).min(1, { error: 'needs at least one instance' }),
  syncGroups: z.array(syncGroupSchema).default([]),
});

export type InstanceSpec = z.output<typeof instanceSchema>;
export type SyncGroupSpec = z.output<typeof syncGroupSchema>;
export type KeepvipConfig = z.output<typeof configSchema>;
