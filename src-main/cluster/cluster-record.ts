/** What the cluster remembers (store.kv 'cluster'), and what its steps may read and write. */

import type { Level } from '../contract/index.js';
import type { Side } from '../hosts/command.js';
import type { HostPair } from '../hosts/pair-exec.js';

export const CLUSTER_KEY = 'cluster';
export const CLUSTER_NAME = 'lockstep';

/**
 * What the cluster needs of the mirror and the link, handed in by the core (a capability never
 * imports another's tools): the mirrored pair, and DRBD's resource-level fencing switch.
 */
export interface MirrorForCluster {
  /** the complete DRBD mirror, or null */
  mirror(): {
    hosts: Record<Side, string>;
    resource: string;
    device: string;
    /** replication (crossover) addresses: corosync's link 1 */
    crossAddresses: Record<Side, string>;
    unames: Partial<Record<Side, string>>;
  } | null;
  /** writes DRBD's `fencing resource-only` + crm-fence-peer handlers into the resource (or takes them out) on both hosts */
  setClusterFencing(on: boolean): Promise<void>;
}

/**
 * The guest Pacemaker runs on the promoted host, handed in by the core (the demo guest's files and
 * command line belong to the pair's code; the cluster never imports them).
 */
export interface GuestForCluster {
  /** the demo guest on `device` (the DRBD device): its address and QEMU argv, the same on both hosts */
  define(hosts: Record<Side, string>, device: string): Promise<ClusterGuest>;
  /** kernel, initrd and the guest's tap on the host: true when all were in place already (nothing done) */
  stage(hostId: string, apply: boolean): Promise<boolean>;
  /** the demo guest's counter disk has been laid on the DRBD device (shared with the pair's disk layer) */
  seeded(): boolean;
  markSeeded(): void;
  /** bytes of the blank counter disk laid on the device once */
  diskBytes: number;
}

export interface ClusterGuest {
  /** resource name (p_vm_NAME) and the argument file's name */
  name: string;
  /** where its clients reach it */
  address: string;
  /** the DRBD device its disk is on */
  device: string;
  /** QEMU's argv, program first; the agent adds -pidfile */
  argv: string[];
}

export interface ClusterStored {
  version: 1;
  clusterName: string;
  hosts: Record<Side, string>;
  /** Pacemaker node names (= uname -n, as DRBD’s crm-fence-peer names them) */
  nodes: Record<Side, string>;
  publicAddresses: Record<Side, string>;
  crossAddresses: Record<Side, string>;
  drbdResource: string;
  tokenMs: number;
  /** corosync-qnetd; `local`: run by this app (in the lab's client namespace when netns is set) */
  witness: { address: string; port: number; local?: { netns?: string } } | null;
  /** corosync's authkey, base64: the same on every node */
  authkey: string;
  /** how each host runs its daemons: systemd units, or started by the app (no systemd: lab hosts) */
  starter: Partial<Record<Side, 'systemd' | 'direct'>>;
  complete: boolean;
  setupSeconds?: number;
  /** the guest run as a resource (`cluster setup --guest demo`), absent: DRBD only */
  guest?: ClusterGuest | null;
  /** a removal that could not reach every host: the hosts still to clean (remove again finishes them) */
  removing?: { left: Side[] };
}

export interface ClusterSetupParams {
  hosts: Record<Side, string>;
  tokenMs: number;
  witness: { address: string; port: number } | null;
}

export interface ClusterContext {
  stored(): ClusterStored | undefined;
  patch(f: (r: ClusterStored) => void): ClusterStored;
  pair(hosts: Record<Side, string>): HostPair;
  mirror: MirrorForCluster;
  guests: GuestForCluster;
  log(level: Level, message: string, extra?: { host?: string; data?: Record<string, unknown> }): void;
}
