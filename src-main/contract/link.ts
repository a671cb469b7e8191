/** DTOs of the crossover replication link and the DRBD mirror. */

export interface LinkEndDTO {
  /** host identity address:port */
  host: string;
  name: string;
  nic: string;
  mac: string;
  /** CIDR on the NIC, e.g. 10.99.0.1/30 */
  address: string;
  mtu: number;
  persistence: 'networkd' | 'networkmanager' | 'ifupdown' | 'none';
}

export type LinkStatus =
  | { state: 'none' }
  | {
      state: 'up';
      a: LinkEndDTO;
      b: LinkEndDTO;
      subnet: string;
      mtu: number;
      /** what the user reads, e.g. "hostA eth2 (02:…) ⇄ hostB eth1 (02:…)" */
      picture: string;
      measured: { rttP50Ms: number; rttP99Ms: number; mibPerSec: number | null; tool: string } | null;
      notes: string[];
    }
  | { state: 'broken'; why: string; fix: string };

export interface MirrorSideDTO {
  host: string;
  name: string;
  disk: string;
  role: string;
  diskState: string;
}

/** Why a pair cannot have a DRBD mirror (from its last preflight), and what Protect does instead. */
export interface MirrorUnavailableDTO {
  state: 'unavailable';
  hosts: { host: string; name: string }[];
  /** one sentence, e.g. "hostA: No DRBD kernel module for kernel 6.1.0-…; hostB: …" */
  why: string;
  /** the preflight's fix (as root on the named host) */
  fix: string;
  /** how Protect makes the disks identical instead */
  diskSync: 'full-copy';
  /** the user chose to go on without DRBD (`lockstep mirror skip`) */
  continued: boolean;
  /** when the preflight that found it ran (ms since epoch) */
  checkedAt: number;
}

export type MirrorStatusDTO =
  | { state: 'none' }
  | MirrorUnavailableDTO
  | {
      state: 'syncing' | 'connected' | 'connecting' | 'disconnected' | 'standalone' | 'split-brain' | 'verifying' | 'unconfigured';
      resource: string;
      device: string;
      a: MirrorSideDTO;
      b: MirrorSideDTO;
      /** sync progress when syncing */
      percent: number | null;
      rateKiBps: number | null;
      etaSeconds: number | null;
      outOfSyncKiB: number | null;
      /** both sides' out-of-sync figures when in split brain */
      splitBrain?: { aOutOfSyncKiB: number | null; bOutOfSyncKiB: number | null };
      /** the lockstep pair holds the guest's disk here and disconnected it on purpose (each side's bitmap records its writes) */
      underPair?: 'split-in-lockstep';
    };
