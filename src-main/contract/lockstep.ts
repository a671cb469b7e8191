/** DTOs of lockstep (QEMU COLO) protection and drills. */

export interface VmSide {
  /** host identity address:port */
  host: string;
  name: string;
  colo: 'primary' | 'secondary' | 'none';
  pid?: number;
}

export type PairStatus =
  | { state: 'unprotected'; why: string }
  | { state: 'starting'; primary: VmSide; secondary: VmSide; step: string }
  | {
      state: 'lockstep';
      primary: VmSide;
      secondary: VmSide;
      since: number;
      checkpoints: number;
      checkpointsPerSecond: number;
      checkpointPauseMsP50: number | null;
      lastCheckpointAt: number | null;
      /** how the disks were made identical before the first checkpoint */
      diskSync: 'drbd' | 'full-copy' | 'fresh';
      guestAddress: string;
      /**
       * does the secondary's output reach the primary's comparer? `stalled`: the primary talks, the
       * secondary has said nothing for seconds (answers only leave at checkpoints; fix: re-protect)
       */
      secondaryOutput?: 'flowing' | 'stalled' | 'waiting';
    }
  | { state: 'failed-over'; survivor: VmSide; lost: VmSide; at: number; guestAddress: string }
  | { state: 'degraded'; primary: VmSide; why: string; guestAddress: string }
  | { state: 'error'; why: string; fix?: string };

export type DrillMode = 'kill-primary-vm' | 'power-off-host' | 'cut-public-link' | 'cut-crossover' | 'kill-secondary';

export interface DowntimeSample {
  /** ms since the drill started */
  t: number;
  /** latency of a good answer, or null for a failed attempt */
  ms: number | null;
  count?: number;
}

export interface DrillReport {
  id: number;
  mode: DrillMode;
  expected: string;
  startedAt: number;
  endedAt: number;
  verdict: 'passed' | 'failed';
  reasons: string[];
  timeline: { t: number; what: string }[];
  http: {
    attempts: number;
    failures: number;
    longestGapMs: number;
    /** the silence spanning the fault: last answer before it → first after it (older reports: absent) */
    faultGapMs?: number | null;
    gapsMs: number[];
    wentBackwards: boolean;
    samples: DowntimeSample[];
  };
  stream: { survived: boolean; longestGapMs: number; wentBackwards: boolean };
  detectionMs: number | null;
  before: PairStatus;
  after: PairStatus;
}
