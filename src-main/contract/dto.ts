/** Plain data that crosses the doors. No classes, no functions. */

export type Level = 'info' | 'warn' | 'error';

export interface EventRecord {
  id: number;
  /** ms since epoch */
  at: number;
  level: Level;
  /** which concern produced it: app, tasks, lab, hosts, preflight, … */
  source: string;
  message: string;
  host?: string;
  data?: Record<string, unknown>;
}

export interface AppInfo {
  name: string;
  version: string;
  node: string;
  platform: string;
  home: string;
  database: string;
  pid: number;
  startedAt: number;
  door: 'web' | 'electron' | 'cli';
}

export interface ProgressDTO {
  /** 0..1, or null when unknown */
  fraction: number | null;
  message: string;
  /** units per second, e.g. bytes/s */
  rate?: number;
  rateUnit?: string;
  /** seconds remaining */
  etaSeconds?: number;
}

export type StepState = 'pending' | 'probing' | 'applying' | 'verifying' | 'done' | 'skipped' | 'failed' | 'cancelled';

export interface StepDTO {
  id: string;
  title: string;
  state: StepState;
  /** how many times apply ran (journaled) */
  applied: number;
  startedAt?: number;
  endedAt?: number;
  error?: import('./errors.js').ErrorDTO;
}

export type PlanState = 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface PlanDTO {
  id: string;
  kind: string;
  title: string;
  state: PlanState;
  createdAt: number;
  updatedAt: number;
  steps: StepDTO[];
  progress?: ProgressDTO;
  error?: import('./errors.js').ErrorDTO;
}
