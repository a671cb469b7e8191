/**
 * What the pair asks of the disk layer under it (architecture.md, "Disks across the lifecycle").
 * Declared here, implemented by the mirror (src-main/mirror/pair-disk.ts) and handed in by the
 * core: lockstep never imports the mirror's tools. Without a mirror joining both hosts the pair
 * copies the guest's disk in full, host to host.
 */
import type { DiskResync, HostDTO, ProgressDTO } from '../contract/index.js';

/** The DRBD device that holds the guest's disk on both hosts. */
export interface PairDrbd {
  resource: string;
  device: string;
}

export interface WaitContext {
  planId: string;
  signal: AbortSignal;
  progress(p: ProgressDTO): void;
  log(message: string, level?: 'info' | 'warn' | 'error'): void;
}

export interface DiskLayer {
  /** The DRBD resource of exactly these two hosts, or null when no mirror joins them. */
  forPair(a: HostDTO, b: HostDTO): PairDrbd | null;
  /**
   * Connected, both UpToDate, `keep`'s side Primary. A pair that a lockstep split (or a stop, or a
   * failover) left apart is joined again: the other side discards what it wrote since the split
   * and DRBD resyncs only those blocks. Progress through `w`. Returns the resync, or null when
   * nothing had to be copied.
   */
  join(keep: HostDTO, w: WaitContext, o?: { verify?: boolean }): Promise<DiskResync | null>;
  /** Both sides Primary while still connected (dual-primary, for the join only): `h`'s QEMU may open the device. */
  openOn(h: HostDTO): Promise<void>;
  /**
   * Disconnect: from here on the secondary's disk gets the primary's writes through QEMU (COLO's
   * block replication), never underneath; each side's bitmap records its own writes.
   */
  split(): Promise<void>;
  /** Has the demo guest's disk been laid on this device already (a blank counter disk)? */
  seeded(): boolean;
  markSeeded(): void;
}
