/** What the preflight remembers (kv key `preflight`): its last report, validated on every read. */
import { z } from 'zod';
import type { FindingDTO, LastPreflight, PreflightHostSummary, PreflightReport } from '../contract/preflight.js';

export const PREFLIGHT_KEY = 'preflight';

const findingSchema: z.ZodType<FindingDTO> = z.object({
  id: z.string(),
  level: z.enum(['ok', 'warn', 'fail']),
  what: z.string(),
  why: z.string(),
  fix: z.string(),
  host: z.string().optional(),
  blocks: z.enum(['lockstep', 'mirror', 'all']).optional(),
});

const hostSummarySchema: z.ZodType<PreflightHostSummary> = z.object({
  hostId: z.string().min(1),
  name: z.string(),
  kernel: z.string().nullable(),
  accel: z.enum(['kvm', 'tcg']),
  qemu: z.string().nullable(),
  drbd: z.string().nullable(),
  memoryMiB: z.number().nullable(),
  gatherMs: z.number(),
});

const reportSchema: z.ZodType<PreflightReport> = z.object({
  hosts: z.array(hostSummarySchema),
  findings: z.array(findingSchema),
  verdict: z.object({ tier: z.enum(['lockstep', 'mirror', 'none']), why: z.string() }),
  clockOffsetSeconds: z.number().nullable(),
  seconds: z.number(),
});

export const lastPreflightSchema: z.ZodType<LastPreflight> = z.object({ at: z.number(), refs: z.array(z.string()), report: reportSchema });
