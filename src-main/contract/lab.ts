/** DTOs of the virtual lab. */

export type LabFlavour = 'namespaces' | 'kernel';

export interface LabHostDTO {
  name: string;
  /** address on the public bridge */
  address: string;
  port: number;
  /** SHA256:… fingerprint of its sshd host key */
  fingerprint: string;
  netns: string;
  pids: number[];
  nics: { name: string; mac: string; role: 'public' | 'crossover' | 'decoy' }[];
  /** off after a power-off drill, until powered on again */
  power: 'on' | 'off';
  /** kernel hosts: the empty data disk for DRBD, as the host names it (/dev/ubda, /dev/vda) */
  dataDisk?: string;
}

/** How kernel hosts run their own kernel: user-mode Linux, or a QEMU VM where UML cannot run. */
export interface LabKernelHosts {
  kind: 'uml' | 'vm';
  /** why this kind runs on this machine, in a sentence */
  why: string;
}

export type LabStatus =
  | { state: 'down' }
  | { state: 'partial'; leftovers: string[]; fix: string }
  | {
      state: 'up';
      flavour: LabFlavour;
      /** kernel flavour only */
      kernelHosts?: LabKernelHosts;
      accel: 'kvm' | 'tcg';
      /** what a person reads: "emulated: demo speed" under TCG */
      accelNote: string;
      publicCidr: string;
      desktopAddress: string;
      clientNetns: string;
      clientAddress: string;
      hosts: LabHostDTO[];
      user: string;
      keyFile: string;
      startedAt: number;
    };

/** What a client of the guest saw (the downtime meter's raw material). */
export interface ClientProbeResult {
  probe: 'http' | 'stream';
  target: string;
  attempts: number;
  answers: number;
  failures: number;
  /** longest time without a good answer (http) or a line (stream), ms */
  longestGapMs: number;
  /** when that longest gap ended (ms since epoch; http): to line it up with the event log */
  longestGapEndedAt?: number;
  /** http: the longest run of failed requests, from the first failed request to the first answer again, ms (a restart as its client saw it) */
  failedRunMs?: number;
  first?: unknown;
  last?: unknown;
  /** counter values went backwards at some point */
  wentBackwards: boolean;
  error?: string;
}
