/**
 * The converter writes the configuration as an operator would: the schema's *input* side
 * ("1s", optional defaults). Deriving the types from the schema makes a field the schema does
 * not know a compile error here rather than a validation error at run time.
 */
import type { InferInput } from 'valibot';
import type { configSchema, instanceSchema, syncGroupSchema } from '../config/schema.js';

export type ConfigInput = InferInput<typeof configSchema>;
export type InstanceInput = InferInput<typeof instanceSchema>;
export type SyncGroupInput = InferInput<typeof syncGroupSchema>;
export type AnnounceInput = NonNullable<InstanceInput['announce']>;
export type NotifyInput = NonNullable<InstanceInput['notify']>;
export type TrackInput = NonNullable<InstanceInput['track']>;
export type TrackInterfaceInput = NonNullable<TrackInput['interfaces']>[number];
export type TrackScriptInput = NonNullable<TrackInput['scripts']>[number];
export type TrackFileInput = NonNullable<TrackInput['files']>[number];

/**
 * An instance as converted: keepalived allows leaving out what keepvip requires (`interface`
 * with unicast, `virtual_router_id` by mistake), and the converter does not invent values, so
 * validation names the missing field instead.
 */
export type DraftInstance = Omit<InstanceInput, 'interface' | 'vrid'> & { interface?: string; vrid?: number };
export type DraftConfig = Omit<ConfigInput, 'instances'> & { instances: DraftInstance[] };
