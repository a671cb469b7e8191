/** DTOs of preflight: what was found on the hosts, and what protection is possible. */
export interface FindingDTO {
  id: string;
  level: 'ok' | 'warn' | 'fail';
  what: string;
  why: string;
  fix: string;
  host?: string;
  blocks?: 'lockstep' | 'mirror' | 'all';
}

export interface PreflightHostSummary {
  hostId: string;
  name: string;
  kernel: string | null;
  accel: 'kvm' | 'tcg';
  qemu: string | null;
  drbd: string | null;
  memoryMiB: number | null;
  gatherMs: number;
}

export interface PreflightReport {
  hosts: PreflightHostSummary[];
  findings: FindingDTO[];
  verdict: { tier: 'lockstep' | 'mirror' | 'none'; why: string };
  clockOffsetSeconds: number | null;
  seconds: number;
}

/** The last preflight the app ran: when, for which hosts (as named), and its report. */
export interface LastPreflight {
  at: number;
  refs: string[];
  report: PreflightReport;
}
