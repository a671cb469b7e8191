/** DTOs of lockstep (QEMU COLO) protection and drills. */

/** What a resync copied to the returned host, from the hosts' kernel logs (DRBD). */
export interface DiskResync {
  bytes: number;
  seconds: number;
  /** the survivor's bitmap: blocks written on it while apart */
  sourceBitmapBytes: number | null;
  /** the returning host's own bitmap: its writes since the split plus its activity-log extents */
  targetBitmapBytes: number | null;
  /** extents marked out of sync from the activity log at attach */
  alMarkedBytes: number;
  /** drbdadm verify right after the resync when asked (0 = identical; null: not verified) */
  verifiedOutOfSyncBytes: number | null;
}

/** What the last re-protect copied to the returned host (DRBD: only what changed; a full copy: the whole disk). */
export type LastResync = { how: 'drbd' | 'full-copy'; bytes: number; seconds: number; at: number } & Partial<Omit<DiskResync, 'bytes' | 'seconds'>>;

/** The user's VM a pair runs (protect --disk): where its image came from, its RAM, vCPUs and watched port. */
export interface ProtectedVm {
  source: string;
  memoryMiB: number;
  cpus: number;
  port?: number;
}

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
      /** the DRBD resource under the pair (diskSync 'drbd'): disconnected while in lockstep */
      disk?: { resource: string; device: string };
      /** what the last re-protect copied to the returned host (DRBD: only what changed) */
      lastResync?: LastResync;
      guestAddress: string;
      /**
       * does the secondary's output reach the primary's comparer? `stalled`: the primary talks, the
       * secondary has said nothing for seconds (answers only leave at checkpoints; fix: re-protect)
       */
      secondaryOutput?: 'flowing' | 'stalled' | 'waiting';
      /** the user's own VM protected from its disk image (absent: the demo guest) */
      vm?: ProtectedVm;
    }
  | { state: 'failed-over'; survivor: VmSide; lost: VmSide; at: number; guestAddress: string }
  | { state: 'degraded'; primary: VmSide; why: string; guestAddress: string }
  /** a host taken out on purpose (host maintenance): the guest runs unprotected on the survivor */
  | { state: 'maintenance'; survivor: VmSide; host: VmSide; since: number; guestAddress: string }
  | { state: 'error'; why: string; fix?: string };

export type DrillMode = 'kill-primary-vm' | 'power-off-host' | 'cut-public-link' | 'cut-crossover' | 'kill-secondary';

export interface DowntimeSample {
  /** ms since the drill started */
  t: number;
  /** latency of a good answer, or null for a failed attempt */
  ms: number | null;
  count?: number;
  /** ordinary client: how long the TCP connect took (≥ ~1 s: a SYN was lost and its retransmission got through) */
  connectMs?: number;
}

/**
 * The three gap figures of a drill (ms), named the same in the Drills view, the HTML report,
 * `drill run --json`, the booth and the bench (`failover_gap_*_ms`).
 */
export interface DrillGaps {
  /** failover_gap_ordinary_client_ms: one HTTP request at a time, a fresh connection each, 1 s timeout, every ~10 ms, no hedging */
  ordinaryClientMs: number | null;
  /** failover_gap_stream_ms: the longest silence of an established TCP stream */
  streamMs: number;
  /** failover_gap_hedged_ms: the service gap seen by a hedging poller (a second poll beside a stuck one); not what a plain client sees */
  hedgedMs: number | null;
  /** the headline: the worst of ordinaryClientMs and streamMs */
  headlineMs: number;
}

/** Where the time went, each ms after the fault (null: not seen). */
export interface DrillBreakdown {
  /** the acting agent decided (its failover command started) */
  detectionMs: number | null;
  /** the agent's colo-failover finished */
  failoverDoneMs: number | null;
  /** the first frame from the guest on the client's wire after the agent started acting (announce or IP) */
  firstFrameMs: number | null;
  firstFrameKind?: string;
  /** the ordinary client's first answer after the fault */
  firstAnswerMs: number | null;
  /** set when a client's lost SYN was recovered only by its 1 s retransmission */
  note?: string;
}

export interface DrillAgentAct {
  host: string;
  name: string;
  role: 'primary' | 'secondary';
  /** failover, continue-alone, degraded, or null (did not act) */
  action: string | null;
  rc: number | null;
  state: string;
  reason: string;
  startedAt: number | null;
  finishedAt: number | null;
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
  /** what clients saw across the fault (reports before issue 18: absent) */
  gaps?: DrillGaps;
  /** where the time went, ms since the fault (reports before issue 18: absent) */
  breakdown?: DrillBreakdown;
  /** which host agent did what during the drill (the event history says the same) */
  agents?: DrillAgentAct[];
  /** the ordinary client's attempts (a fresh connection each, one at a time, 1 s timeout) */
  ordinary?: { attempts: number; failures: number; timeouts: number; synRetries: number; samples: DowntimeSample[] };
  before: PairStatus;
  after: PairStatus;
}

/** The gap figures' names, one set for the Drills view, the HTML report, the booth and the bench. */
export const GAP_FIGURES = {
  headlineMs: { label: 'longest gap a client saw', bench: 'failover_gap_ms', help: 'the worst of the ordinary client and the TCP stream' },
  ordinaryClientMs: {
    label: 'ordinary client gap',
    bench: 'failover_gap_ordinary_client_ms',
    help: 'one HTTP request at a time, a fresh connection each, 1 s timeout, no hedging',
  },
  streamMs: { label: 'TCP stream gap', bench: 'failover_gap_stream_ms', help: 'the longest silence of an established TCP stream' },
  hedgedMs: {
    label: 'hedged service gap',
    bench: 'failover_gap_hedged_ms',
    help: 'a poller that starts a second request beside a stuck one: what the service delivered, not what a plain client sees',
  },
} as const;

/** The figures of a report; older reports (no `gaps`) read their hedged gap as the headline. */
export function gapsOf(r: Pick<DrillReport, 'gaps' | 'http' | 'stream'>): DrillGaps {
  return r.gaps ?? { ordinaryClientMs: null, streamMs: r.stream.longestGapMs, hedgedMs: r.http.faultGapMs ?? null, headlineMs: r.http.longestGapMs };
}
