/**
 * The command map: name → input schema (validated at every door) + CLI shape.
 * Output types live in `Outputs` below; a type test pins that both maps agree.
 */
import { z } from 'zod';
import type { AppInfo, EventRecord, PlanDTO } from './dto.js';
import type { ClientProbeResult, LabStatus } from './lab.js';

/** A name that is safe everywhere: files, shells, SQL, DOM. */
export const SafeName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use 1–63 letters, digits, dot, dash or underscore, starting with a letter or digit');

export const PlanId = z.string().regex(/^[a-z0-9-]{8,64}$/, 'not a plan id (see `lockstep tasks list`)');

const empty = z.object({}).strict();

export interface CommandSpec {
  input: z.ZodObject;
  summary: string;
  /** CLI: which input keys are given positionally, in order */
  positional?: readonly string[];
  /** runs a plan: the CLI follows its progress until it ends */
  long?: boolean;
}

export const commands = {
  'app.info': { input: empty, summary: 'Show version, data folder and database of this app' },
  'events.list': {
    input: z
      .object({
        limit: z.number().int().min(1).max(1000).default(200),
        afterId: z.number().int().min(0).optional(),
        query: z.string().max(200).optional(),
      })
      .strict(),
    summary: 'List recorded events, newest last (search with --query)',
  },
  'events.note': {
    input: z.object({ message: z.string().trim().min(1).max(500) }).strict(),
    summary: 'Write a note into the event history',
    positional: ['message'],
  },
  'tasks.list': { input: empty, summary: 'List plans (setup tasks) with their steps' },
  'tasks.cancel': {
    input: z.object({ planId: PlanId }).strict(),
    summary: 'Cancel a running plan (the current step stops at its next check)',
    positional: ['planId'],
  },
  'lab.up': {
    input: z.object({ kernel: z.boolean().default(false) }).strict(),
    summary: 'Start the virtual lab: two simulated KVM hosts on this machine (needs root)',
    long: true,
  },
  'lab.status': { input: empty, summary: 'Show the virtual lab: hosts, addresses, keys, processes' },
  'lab.down': { input: empty, summary: 'Remove every namespace, link and process the virtual lab made', long: true },
  'lab.client': {
    input: z
      .object({
        probe: z.enum(['http', 'stream']),
        path: z
          .string()
          .regex(/^\/[A-Za-z0-9._~/-]{0,200}$/, 'an absolute URL path like /')
          .default('/'),
        seconds: z.number().min(0.1).max(600).default(1),
        intervalMs: z.number().int().min(5).max(10_000).default(100),
      })
      .strict(),
    summary: "Probe the demo guest from the lab's client namespace (http: poll the counter; stream: hold the TCP stream)",
    positional: ['probe'],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof commands;
export type Input<K extends CommandName> = z.input<(typeof commands)[K]['input']>;
export type ParsedInput<K extends CommandName> = z.output<(typeof commands)[K]['input']>;

export interface Outputs {
  'app.info': AppInfo;
  'events.list': EventRecord[];
  'events.note': EventRecord;
  'tasks.list': PlanDTO[];
  'tasks.cancel': PlanDTO;
  'lab.up': LabStatus;
  'lab.status': LabStatus;
  'lab.down': LabStatus;
  'lab.client': ClientProbeResult;
}

export type Output<K extends CommandName> = Outputs[K];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(commands, name);
}
