import type { LastResync } from '../contract/lockstep.js';
import { z } from 'zod';
import type { VmFiles } from '../hosts/vm-layout.js';
import type { UserVm } from './user-vm.js';

/** What every state of the pair's record carries. */
interface PairBase {
  /** host identities (address:port) in their CURRENT roles */
  primary: string;
  secondary: string;
  accel: 'kvm' | 'tcg';
  qemuMajor: number;
  /** crossover addresses of the primary and the secondary */
  xa: string;
  xb: string;
  guestAddress: string;
  guestCidr: string;
  since: number;
  diskSync: 'drbd' | 'full-copy' | 'fresh';
  /**
   * Which QEMU file set (pid, QMP, serial under HOST_PATHS.run) the VM on the CURRENT primary host uses:
   * after a failover the survivor still runs the QEMU that was started as the secondary. Default 'primary'.
   * A secondary is always a fresh QEMU with the 'secondary' set.
   */
  primaryVm?: VmFiles;
  /** the primary's replication (NBD) node, named so that it can be yanked and removed */
  replNode?: string;
  /** +1 on every (re-)protect: names nodes uniquely inside one long-running QEMU */
  generation?: number;
  /**
   * a primary started joining the current secondary: an interrupted protect must start a fresh
   * secondary before it tries again (a secondary takes one incoming migration only)
   */
  secondaryUsed?: boolean;
  /** how long the last protect / re-protect took */
  protectMs?: number;
  /** the DRBD device that holds the guest's disk on both hosts (diskSync 'drbd'); absent: a file on each host */
  disk?: { resource: string; device: string };
  /** what the last re-protect copied to the returned host */
  lastResync?: LastResync;
  /** the user's own VM (protected from its disk image); absent: the demo guest */
  vm?: UserVm;
}

/**
 * What the store remembers about the COLO pair (kv key `pair`): a state machine, never a bag of
 * flags. Only a failed-over pair has a failure time and a lost host.
 */
export type PairRecord =
  | (PairBase & { state: 'starting' | 'lockstep' | 'reprotecting' | 'stopped' })
  | (PairBase & {
      state: 'failed-over';
      failedAt: number;
      /** the host that was lost (address:port) */
      lost: string;
    })
  | (PairBase & {
      /** one host taken out on purpose (lockstep/maintenance.ts): `primary` runs the guest alone, `secondary` is the host in maintenance */
      state: 'maintenance';
      maintenance: MaintenanceMark;
    });

/** Why and since when a host is in maintenance. */
export interface MaintenanceMark {
  /** the host in maintenance (address:port), the same as the record's `secondary` */
  host: string;
  enteredAt: number;
  /** what it ran when maintenance began */
  hostRole: 'primary' | 'secondary';
  /** the primary before maintenance: where --failback moves the guest back to */
  preferredPrimary: string;
  /** were the host agents armed before (then exit arms them again) */
  agentsArmed: boolean;
}

/** Pure: the record once a cold protect has both VMs in COLO (also when an interrupted protect finds them there). */
export function inLockstepRecord(r: PairRecord, now: number): PairRecord {
  const generation = r.generation ?? 0;
  return { ...r, state: 'lockstep', since: now, primaryVm: 'primary', replNode: r.replNode ?? `replication${generation}`, generation: generation + 1 };
}

/** Pure: a failed-over pair starting its re-protect: the lost host becomes the secondary to be. */
export function reprotectingRecord(r: Extract<PairRecord, { state: 'failed-over' }>): PairRecord {
  const { failedAt: _failedAt, lost, ...rest } = r;
  return { ...rest, state: 'reprotecting', secondary: lost };
}

/** The file set of the VM in a role right now. */
export const vmFiles = (r: PairRecord, role: 'primary' | 'secondary'): VmFiles => (role === 'primary' ? (r.primaryVm ?? 'primary') : 'secondary');

export const PAIR_KEY = 'pair';

/** The demo guest: memory (8 KiB over 128 MiB: field-notes/colo.md), its NIC's MAC, its blank counter disk's size. */
export const GUEST = { memory: '131080k', mac: '52:54:00:4c:53:01', diskMiB: 16 } as const;

const hostRef = z.string().min(1);
const pairBase = {
  primary: hostRef,
  secondary: hostRef,
  accel: z.enum(['kvm', 'tcg']),
  qemuMajor: z.number().int(),
  xa: z.string(),
  xb: z.string(),
  guestAddress: z.string(),
  guestCidr: z.string(),
  since: z.number(),
  diskSync: z.enum(['drbd', 'full-copy', 'fresh']),
  primaryVm: z.enum(['primary', 'secondary']).optional(),
  replNode: z.string().optional(),
  generation: z.number().int().optional(),
  secondaryUsed: z.boolean().optional(),
  protectMs: z.number().optional(),
  disk: z.object({ resource: z.string(), device: z.string() }).optional(),
  lastResync: z
    .object({
      how: z.enum(['drbd', 'full-copy']),
      bytes: z.number(),
      seconds: z.number(),
      sourceBitmapBytes: z.number().nullable().optional(),
      targetBitmapBytes: z.number().nullable().optional(),
      alMarkedBytes: z.number().optional(),
      verifiedOutOfSyncBytes: z.number().nullable().optional(),
      at: z.number(),
    })
    .optional(),
  vm: z
    .object({
      kind: z.literal('image'),
      sourceHost: z.string(),
      source: z.string(),
      memoryMiB: z.number().int(),
      cpus: z.number().int(),
      mac: z.string(),
      port: z.number().int().optional(),
    })
    .optional(),
};

/** The pair's record as the store must hold it (validated on every read: store/record-repo.ts). */
export const pairRecordSchema: z.ZodType<PairRecord> = z.discriminatedUnion('state', [
  z.object({ ...pairBase, state: z.enum(['starting', 'lockstep', 'reprotecting', 'stopped']) }),
  z.object({ ...pairBase, state: z.literal('failed-over'), failedAt: z.number(), lost: hostRef }),
  z.object({
    ...pairBase,
    state: z.literal('maintenance'),
    maintenance: z.object({
      host: hostRef,
      enteredAt: z.number(),
      hostRole: z.enum(['primary', 'secondary']),
      preferredPrimary: hostRef,
      agentsArmed: z.boolean(),
    }),
  }),
]);
