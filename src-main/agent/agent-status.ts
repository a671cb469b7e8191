/**
 * Pure: reading what an agent or a witness says about itself (the one JSON line of
 * `lockstep-agent --once-status`) into the app's DTOs, and the one-sentence summary of a pair of
 * agents. Nothing here trusts the input's shape: a field of the wrong type reads as absent.
 */
import type { AgentHostStatus, WitnessStatus } from '../contract/agent.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v.slice(0, 500) : fallback);

/** The first JSON line of the output, or null. */
export function firstJsonLine(text: string): Obj | null {
  const line = text.split('\n').find((l) => l.trim().startsWith('{'));
  if (!line) return null;
  try {
    return obj(JSON.parse(line));
  } catch {
    return null;
  }
}

export interface HostMeta {
  host: string;
  name: string;
  role: 'primary' | 'secondary';
  how: 'systemd' | 'direct';
}

/** An agent's status JSON (mode peer) → the DTO. A not-running answer keeps its error. */
export function agentHostStatus(meta: HostMeta, json: Obj | null, log: string[]): AgentHostStatus {
  const base: AgentHostStatus = {
    ...meta,
    state: 'not-running',
    armed: false,
    reason: '',
    vm: null,
    peer: { crossoverMs: null, publicMs: null },
    witness: null,
    action: { last: null, running: false, rc: null, durationMs: null, startedAt: null, finishedAt: null },
    decisions: [],
    log,
  };
  if (!json) return { ...base, error: 'no status from the agent' };
  if (json.state === 'not-running' || json.mode !== 'peer') return { ...base, error: str(json.error, 'the agent does not answer') };
  const paths = obj(json.paths);
  const w = obj(json.witness);
  const a = obj(json.action);
  const decisions = Array.isArray(json.decisions) ? json.decisions : [];
  return {
    ...base,
    role: json.role === 'primary' || json.role === 'secondary' ? json.role : meta.role,
    state: str(json.state, 'unknown'),
    armed: json.armed === true,
    reason: str(json.reason),
    vm: json.vm === 'up' || json.vm === 'down' ? json.vm : null,
    peer: { crossoverMs: num(obj(paths?.crossover)?.last_heard_ms), publicMs: num(obj(paths?.public)?.last_heard_ms) },
    witness: w ? { address: str(w.address), reachable: w.reachable === true, rttMs: num(w.rtt_ms), peerAgeMs: num(w.peer_age_ms) } : null,
    action: {
      last: typeof a?.last === 'string' ? a.last : null,
      running: a?.running === true,
      rc: num(a?.rc),
      durationMs: num(a?.duration_ms),
      startedAt: num(a?.started_at),
      finishedAt: num(a?.finished_at),
    },
    decisions: decisions
      .map(obj)
      .filter((d): d is Obj => d !== null)
      .slice(-16)
      .map((d) => ({ at: str(d.at), from: str(d.from), to: str(d.to), action: str(d.action), reason: str(d.reason) })),
  };
}

/** A witness's status JSON (mode witness) → its state and what it heard. */
export function witnessHeard(json: Obj | null): Pick<WitnessStatus, 'state' | 'heard' | 'error'> {
  if (!json || json.mode !== 'witness') return { state: 'not-running', heard: null, error: str(json?.error, 'the witness does not answer') };
  const h = obj(json.heard);
  return { state: 'serving', heard: { primary: num(h?.primary), secondary: num(h?.secondary) } };
}

const ACTED = new Set(['acting', 'took-over', 'alone', 'action-failed', 'split-brain']);

/** One sentence about the pair of agents and the witness. */
export function summarize(hosts: AgentHostStatus[], witness: WitnessStatus): string {
  const acted = hosts.filter((h) => ACTED.has(h.state));
  if (acted.length) return acted.map((h) => `${h.name} (${h.role}) ${h.state}${h.action.last ? ` after ${h.action.last}` : ''}`).join('; ');
  const down = hosts.filter((h) => h.state === 'not-running' || h.state === 'unreachable');
  if (down.length) return `No agent answers on ${down.map((h) => h.name).join(' and ')}: nothing fails over automatically.`;
  if (witness.state !== 'serving') return `The witness at ${witness.address} is ${witness.state}: the agents report but never act.`;
  if (hosts.length && hosts.every((h) => h.armed)) return 'Armed on both hosts: a lost host fails over without the app.';
  return hosts.map((h) => `${h.name} ${h.state}${h.reason ? ` (${h.reason})` : ''}`).join('; ');
}
