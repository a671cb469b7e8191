/**
 * The demo guest's counter as it lies on a lab host's disk, read from the machine (not through
 * the app or the guest): two 512-byte slots, `LSGCOUNT1 n=N boot=ID sum=S`, S a check of N
 * (native/guest/rootfs/lib/lsg/counterd). An answered count is on disk before it is answered,
 * so the highest valid slot is never below the last count a client was given.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const P = 4294967291n;

/** Pure: the highest count in valid slots, and how many slots were torn (bad check). */
export function parseCounterSlots(buf: Buffer): { count: number | null; torn: number } {
  let best: number | null = null;
  let torn = 0;
  for (const off of [0, 512]) {
    const line = buf.subarray(off, off + 512).toString('latin1');
    const m = /^LSGCOUNT1 n=(\d+) boot=\S+ sum=(\d+)/.exec(line);
    if (!m) continue;
    const n = BigInt(m[1]!);
    if (((n % P) * 65599n + 12345n) % P !== BigInt(m[2]!)) {
      torn++;
      continue;
    }
    best = Math.max(best ?? 0, Number(n));
  }
  return { count: best, torn };
}

/** The guest disk of a namespace lab host (its private /var/lib/lockstep lives under the lab's directory). */
export function diskCount(home: string, prefix: string, host: string): { count: number | null; torn: number } {
  const file = join(home, 'lab', prefix, host, 'fs', 'var-lib-lockstep', 'guest', 'disk.img');
  if (!existsSync(file)) return { count: null, torn: 0 };
  return parseCounterSlots(readFileSync(file).subarray(0, 1024));
}

/** QEMU processes of a namespace host, seen from the machine: PIDs. */
export function qemuPids(netns: string): number[] {
  const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
  return pids
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('qemu-system');
      } catch {
        return false;
      }
    })
    .map(Number);
}
