import { z } from 'zod';
import type { MaintenanceReport } from '../contract/maintenance.js';

/** The maintenance cycles the app remembers (kv key `maintenance`): the current or last one first. */
export interface MaintenanceLog {
  reports: MaintenanceReport[];
}

export const MAINTENANCE_KEY = 'maintenance';
/** how many past cycles are kept */
export const KEEP_REPORTS = 20;

const gap = z.object({
  what: z.enum(['enter', 'failback', 'reprotect']),
  at: z.number(),
  from: z.string(),
  to: z.string(),
  ordinaryClientMs: z.number().nullable(),
  streamMs: z.number().nullable(),
  streamSurvived: z.boolean().nullable(),
  wentBackwards: z.boolean().nullable(),
  stepMs: z.number(),
});

const report = z.object({
  id: z.number().int(),
  host: z.string(),
  hostId: z.string(),
  hostRole: z.enum(['primary', 'secondary']),
  survivor: z.string(),
  enteredAt: z.number(),
  protectedAt: z.number().nullable(),
  unprotectedSeconds: z.number(),
  resyncBytes: z.number(),
  gaps: z.array(gap),
  switchoverGapMs: z.number().nullable(),
  failback: z.boolean(),
  agentsArmed: z.boolean().default(false),
  primaryNow: z.string(),
  unprotected: z.array(z.tuple([z.number(), z.number().nullable()])),
  notes: z.array(z.string()),
});

export const maintenanceLogSchema: z.ZodType<MaintenanceLog> = z.object({ reports: z.array(report) });
