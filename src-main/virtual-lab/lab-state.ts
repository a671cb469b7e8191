import { z } from 'zod';
import type { LabFlavour, LabKernelHosts } from '../contract/index.js';
import type { KeyValueRepo } from '../store/kv-repo.js';
import { RecordRepo } from '../store/record-repo.js';
import type { LabHostLayout, LabLayout } from './topology.js';

/** What the store remembers about the lab (kv key `lab`). */
export interface LabRecord {
  state: 'starting' | 'up' | 'stopping';
  flavour: LabFlavour;
  /** kernel flavour: how its hosts run their kernel, and why (decided once, at `lab up`) */
  kernel?: LabKernelHosts;
  layout: LabLayout;
  accel: 'kvm' | 'tcg';
  dir: string;
  keyFile: string;
  /** `off`: powered off by a drill (its processes killed, its NICs down) until `lab power NAME on` */
  hosts: Record<string, { fingerprint: string; pid?: number; off?: boolean }>;
  startedAt: number;
}

export const LAB_KEY = 'lab';

const hostLayoutSchema: z.ZodType<LabHostLayout> = z.object({
  name: z.string().min(1),
  netns: z.string(),
  address: z.string(),
  nics: z.array(z.object({ name: z.string(), role: z.enum(['public', 'crossover', 'decoy']), mac: z.string(), wirePeer: z.string() })),
});

const layoutSchema: z.ZodType<LabLayout> = z.object({
  prefix: z.string().min(1),
  wireNs: z.string(),
  pubBridge: z.string(),
  xoBridge: z.string(),
  clientNs: z.string(),
  clientAddress: z.string(),
  desktopVeth: z.string(),
  desktopAddress: z.string(),
  guestAddress: z.string(),
  publicCidr: z.string(),
  hosts: z.tuple([hostLayoutSchema, hostLayoutSchema]),
});

/** The lab's record as the store must hold it (validated on every read: store/record-repo.ts). */
export const labRecordSchema: z.ZodType<LabRecord> = z.object({
  state: z.enum(['starting', 'up', 'stopping']),
  flavour: z.enum(['namespaces', 'kernel']),
  kernel: z.object({ kind: z.enum(['uml', 'vm']), why: z.string() }).optional(),
  layout: layoutSchema,
  accel: z.enum(['kvm', 'tcg']),
  dir: z.string(),
  keyFile: z.string(),
  hosts: z.record(z.string(), z.object({ fingerprint: z.string(), pid: z.number().int().optional(), off: z.boolean().optional() })),
  startedAt: z.number(),
});

/** The lab's record in the store, validated on every read. */
export const labRecords = (kv: KeyValueRepo): RecordRepo<LabRecord> =>
  new RecordRepo(kv, LAB_KEY, labRecordSchema, { redo: 'lockstep lab down && lockstep lab up' });
