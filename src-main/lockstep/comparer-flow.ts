/**
 * Does the secondary's output reach the primary's colo-compare? Seen from the primary host's TCP
 * counters: the primary guest's output enters the comparer through the local loop socket
 * (compareLoop), the secondary's through the crossover socket (compare). A pair whose secondary
 * stopped producing output still checkpoints and still looks healthy to QMP, but every answer the
 * primary gives is held until the next checkpoint flushes it: clients time out (field notes,
 * "Hazards seen"; seen here after a cold protect). Pure parsing and judging, plus one reader.
 */
import { z } from 'zod';
import type { SshSession } from '../hosts/ssh-session.js';
import { PORTS } from './colo-args.js';

export interface TcpConn {
  local: string;
  localPort: number;
  peer: string;
  peerPort: number;
  bytesSent: number;
  bytesReceived: number;
}

const endpoint = (s: string): [string, number] | null => {
  const m = /^(.*):(\d+)$/.exec(s);
  return m ? [m[1]!.replace(/^\[|\]$/g, ''), Number(m[2])] : null;
};

/** Pure: `ss -tniH state established` output (a line per socket, its details on the next, indented line). */
export function parseSsTcp(text: string): TcpConn[] {
  const out: TcpConn[] = [];
  let last: TcpConn | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (/^\s/.test(line)) {
      if (!last) continue;
      const num = (k: string) => Number(new RegExp(`\\b${k}:(\\d+)`).exec(line)?.[1] ?? 0);
      last.bytesSent = num('bytes_sent');
      last.bytesReceived = num('bytes_received');
      continue;
    }
    const f = line.trim().split(/\s+/);
    // Recv-Q Send-Q Local Peer (with `state established` ss omits the State column)
    const l = endpoint(f[2] ?? '');
    const p = endpoint(f[3] ?? '');
    last = l && p ? { local: l[0], localPort: l[1], peer: p[0], peerPort: p[1], bytesSent: 0, bytesReceived: 0 } : undefined;
    if (last) out.push(last);
  }
  return out;
}

export interface FlowSample {
  at: number;
  /** bytes of the primary guest's output handed to the comparer */
  primaryOut: number;
  /** bytes of the secondary's output the comparer received over the crossover */
  secondaryIn: number;
}

export const flowSampleSchema: z.ZodType<FlowSample> = z.object({ at: z.number(), primaryOut: z.number(), secondaryIn: z.number() });

/** Pure: the comparer's two inputs from the primary host's sockets (the server ends of compare0 and compare1). */
export function comparerInputs(conns: TcpConn[], at: number): FlowSample {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    at,
    primaryOut: sum(conns.filter((c) => c.localPort === PORTS.compareLoop).map((c) => c.bytesSent)),
    secondaryIn: sum(conns.filter((c) => c.localPort === PORTS.compare).map((c) => c.bytesReceived)),
  };
}

/** Five checkpoint intervals: the secondary runs behind the primary (more so right after it joined), never this far. */
export const STALL_AFTER_MS = 10_000;
/** The primary said this much meanwhile: enough packets that the secondary must have said something too. */
export const STALL_MIN_PRIMARY_BYTES = 2000;

export type Flow = 'flowing' | 'stalled' | 'waiting';

/**
 * Pure: judges the newest sample against the baseline (the last time the secondary's input moved,
 * or the last quiet moment). `flowing`: the secondary's output arrived since the baseline. `stalled`:
 * for at least STALL_AFTER_MS the primary's output grew by STALL_MIN_PRIMARY_BYTES while nothing
 * came from the secondary. `waiting`: too little traffic or time to tell. Counters that went down
 * (a QEMU restarted, sockets new) start a new baseline.
 */
export function judgeFlow(base: FlowSample, now: FlowSample): { flow: Flow; base: FlowSample } {
  if (now.secondaryIn < base.secondaryIn || now.primaryOut < base.primaryOut) return { flow: 'waiting', base: now };
  if (now.secondaryIn > base.secondaryIn) return { flow: 'flowing', base: now };
  // nothing said by either side: the clock starts again (a stall is silence while the primary talks)
  if (now.primaryOut === base.primaryOut) return { flow: 'waiting', base: { ...base, at: now.at } };
  if (now.at - base.at >= STALL_AFTER_MS && now.primaryOut - base.primaryOut >= STALL_MIN_PRIMARY_BYTES) return { flow: 'stalled', base };
  return { flow: 'waiting', base };
}

/** Reads the comparer's inputs on the primary host. */
export async function readComparerInputs(sa: SshSession): Promise<FlowSample> {
  const r = await sa.check(['ss', '-tniH', 'state', 'established', `( sport = :${PORTS.compare} or sport = :${PORTS.compareLoop} )`], {
    fix: 'Install iproute2 on the host (it provides ss).',
  });
  return comparerInputs(parseSsTcp(r), Date.now());
}
