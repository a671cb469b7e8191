/** DTOs of host maintenance (issue 20): take one host of the pair out for a reboot while the guest runs on. */

/** What an ordinary client saw across one client-visible moment of the cycle (a switchover or a re-protect's join). */
export interface MaintenanceGap {
  /** 'enter': the primary role moved off the host; 'failback': it moved back; 'reprotect': the join pause of a re-protect */
  what: 'enter' | 'failback' | 'reprotect';
  at: number;
  /** host names: where the guest ran before → after */
  from: string;
  to: string;
  /** longest silence of an ordinary client (one request at a time, a fresh connection each, 1 s timeout); null: not measured */
  ordinaryClientMs: number | null;
  /** longest silence of an established TCP stream; null: not measured */
  streamMs: number | null;
  /** did the TCP stream survive (null: not measured) */
  streamSurvived: boolean | null;
  /** did the counter ever go backwards (null: not measured) */
  wentBackwards: boolean | null;
  /** how long the app's own step took (colo-failover, or the whole re-protect) */
  stepMs: number;
}

/** The drill-like report of one maintenance cycle (enter → reboot → exit). */
export interface MaintenanceReport {
  id: number;
  /** the host taken out, by name and identity */
  host: string;
  hostId: string;
  /** what the host ran when maintenance began */
  hostRole: 'primary' | 'secondary';
  /** where the guest ran alone meanwhile */
  survivor: string;
  enteredAt: number;
  /** set when the pair is in lockstep again */
  protectedAt: number | null;
  /** enter → protected again (s); while in maintenance: so far */
  unprotectedSeconds: number;
  /** what the re-protect(s) copied to the returned host (today a full copy; with DRBD: the bitmap's blocks) */
  resyncBytes: number;
  /** every client-visible moment, in order */
  gaps: MaintenanceGap[];
  /** the longest gap an ordinary client saw at a switchover (null: none measured) */
  switchoverGapMs: number | null;
  failback: boolean;
  /** were the host agents armed when maintenance began (exit arms them again only then) */
  agentsArmed: boolean;
  /** where the primary runs now (after exit: the survivor, or the host again after --failback) */
  primaryNow: string;
  /**
   * when protection was lost and regained: [lost, regained or null while still unprotected]. Lost when
   * the agents are held at enter; regained at the end of exit (lockstep again and the agents armed), so
   * a failback's brief lockstep in between (agents still held: no automatic failover) counts as unprotected.
   */
  unprotected: [number, number | null][];
  notes: string[];
}

/** What `host maintenance enter|exit|status` answers. */
export type MaintenanceStatus =
  | { state: 'none'; why: string; last: MaintenanceReport | null }
  | {
      state: 'in-maintenance';
      host: string;
      hostId: string;
      survivor: string;
      since: number;
      /** the plain sentence: "hostA can be rebooted now; the guest runs unprotected on hostB" */
      say: string;
      /** what happens if the survivor fails meanwhile */
      risk: string;
      /** what to run when the host is back */
      next: string;
      report: MaintenanceReport;
    }
  | { state: 'protected'; say: string; report: MaintenanceReport };

/** Bench names of the maintenance figures (test/bench and the lab spec print them as `name: value`). */
export const MAINTENANCE_FIGURES = {
  switchoverGapMs: { bench: 'maintenance_switchover_gap_ms', label: 'ordinary client gap at the switchover' },
  unprotectedSeconds: { bench: 'maintenance_unprotected_seconds', label: 'time the guest ran unprotected' },
  resyncBytes: { bench: 'maintenance_resync_bytes', label: 'bytes copied to the returned host' },
} as const;

/** What a client of the guest saw across one moment the app causes on purpose (a switchover, a re-protect's join). */
export type ClientSeen = Pick<MaintenanceGap, 'ordinaryClientMs' | 'streamMs' | 'streamSurvived' | 'wentBackwards'>;

/** A client of the guest watching while the app acts (the core hands the drill's meter in). */
export interface ClientWatch {
  /** the client-visible moment starts now */
  fault(): void;
  /** the app's step for it has finished */
  handled(): void;
  /** keeps watching afterMs more, then what the client saw across the moment */
  stop(afterMs: number): Promise<ClientSeen>;
}
