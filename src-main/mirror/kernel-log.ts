/**
 * Pure: what DRBD 8.4 says in the kernel log (dmesg) about a resync, for the figures a person
 * (and the bench) wants: how much a resync copied, and where those blocks came from. Seen for
 * real on 8.4.11 when a crashed primary returned (its log, as SyncTarget):
 *
 *   [ 72.30] block drbd0: 32 MB (8192 bits) marked out-of-sync by on disk bit-map.     ← its activity log
 *   [ 72.87] block drbd0: drbd_sync_handshake:
 *   [ 72.87] block drbd0: self F2C5…:…:…:… bits:8192 flags:0                           ← its bitmap
 *   [ 72.87] block drbd0: peer 5F0E…:…:…:… bits:2048 flags:0                           ← written while apart
 *   [ 72.94] block drbd0: Began resync as SyncTarget (will sync 40960 KB [10240 bits set]).
 *   [ 73.22] block drbd0: Resync done (total 1 sec; paused 0 sec; 40960 K/sec)
 * Older 8.4 builds say "Marked additional 32 MB as out-of-sync based on AL." at attach instead.
 */

export interface ResyncFigures {
  /** this node's role in the resync */
  as: string;
  /** what the resync set out to copy (the union of both bitmaps, 4 KiB per bit) */
  resyncKiB: number;
  bitsSet: number;
  /** the sync source's bitmap at the handshake: blocks changed on it while the peer was away */
  sourceBitmapKiB: number | null;
  /** the sync target's bitmap: after a crash, the extents of its activity log (and its own writes since the split) */
  targetBitmapKiB: number | null;
  /** marked out of sync at attach from the activity log ("Marked additional … based on AL"), 0 when not printed */
  alMarkedKiB: number;
  /** kernel timestamps (s since boot) of the start and the end; null when dmesg printed none */
  beganAt: number | null;
  doneAt: number | null;
  /** from the "Resync done" line (whole seconds, DRBD's own rate); null while it runs */
  doneSeconds: number | null;
  doneKiBps: number | null;
}

const UNITS: Record<string, number> = { K: 1, M: 1024, G: 1024 ** 2, T: 1024 ** 3 };

function stamp(line: string): number | null {
  const m = /^\[\s*(\d+\.\d+)\]/.exec(line);
  return m ? Number(m[1]) : null;
}

export function drbdLines(log: string, minor: number): string[] {
  const re = new RegExp(`\\bdrbd${Math.trunc(minor)}\\b`);
  return log.split('\n').filter((l) => re.test(l));
}

/** How many resyncs the log shows as begun (to tell a new one from an old one). */
export function resyncsBegun(log: string, minor: number): number {
  return drbdLines(log, minor).filter((l) => /Began resync as/.test(l)).length;
}

/** Pure: the last resync of `minor` in a kernel log, or null when there was none. */
export function lastResync(log: string, minor: number): ResyncFigures | null {
  const lines = drbdLines(log, minor);
  let began = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/Began resync as/.test(lines[i]!)) {
      began = i;
      break;
    }
  }
  if (began < 0) return null;
  const m = /Began resync as (\w+) \(will sync (\d+) KB \[(\d+) bits set\]\)/.exec(lines[began]!);
  if (!m) return null;
  const as = m[1]!;
  let selfBits: number | null = null;
  let peerBits: number | null = null;
  let alMarkedKiB = 0;
  // back to the previous resync/verify: the handshake and the attach that led to this one
  for (let i = began - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (/(Resync|Online verify) done|Began resync as/.test(l)) break;
    const bits = /\b(self|peer) [0-9A-F:]+ bits:(\d+)/.exec(l);
    if (bits && bits[1] === 'self' && selfBits === null) selfBits = Number(bits[2]);
    if (bits && bits[1] === 'peer' && peerBits === null) peerBits = Number(bits[2]);
    const al = /Marked additional (\d+) ([KMGT])B as out-of-sync based on AL/.exec(l);
    if (al) alMarkedKiB += Number(al[1]) * (UNITS[al[2]!] ?? 1);
  }
  const source = /S(ource)?$/.test(as);
  const kib = (bits: number | null) => (bits === null ? null : bits * 4);
  let doneSeconds: number | null = null;
  let doneKiBps: number | null = null;
  let doneAt: number | null = null;
  for (let i = began + 1; i < lines.length; i++) {
    const d = /Resync done \(total (\d+) sec; paused (\d+) sec; (\d+) K\/sec\)/.exec(lines[i]!);
    if (d) {
      doneSeconds = Number(d[1]);
      doneKiBps = Number(d[3]);
      doneAt = stamp(lines[i]!);
      break;
    }
  }
  return {
    as,
    resyncKiB: Number(m[2]),
    bitsSet: Number(m[3]),
    sourceBitmapKiB: kib(source ? selfBits : peerBits),
    targetBitmapKiB: kib(source ? peerBits : selfBits),
    alMarkedKiB,
    beganAt: stamp(lines[began]!),
    doneAt,
    doneSeconds,
    doneKiBps,
  };
}
