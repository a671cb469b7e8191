/**
 * An ordinary client of the test VM's Redis, run in the lab's client namespace (redis-cli, as a user
 * of the guest's service would): one command, a writer that keeps writing, and the check that every
 * write Redis acknowledged reads back. Shared by the lab specs that protect the test VM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { TEST_VM_PORT } from './test-vm/test-vm.js';

export interface Write {
  i: number;
  /** ms timestamp after the answer */
  t: number;
  /** Redis answered OK: acknowledged */
  ok: boolean;
}

export function redisClient(netns: string, guest: string) {
  /** one redis-cli command (5 s limit) */
  function redis(...args: string[]): { ok: boolean; out: string } {
    const r = spawnSync('ip', ['netns', 'exec', netns, 'timeout', '5', 'redis-cli', '-h', guest, '-p', String(TEST_VM_PORT), ...args], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    return { ok: r.status === 0, out: (r.stdout ?? '').trim() };
  }

  /**
   * A writer for `seconds`: one SET `PREFIX:i` = i at a time, a fresh redis-cli each (2 s timeout),
   * a line per attempt: index, ms timestamp after the answer, the answer.
   */
  function startWriter(seconds: number, prefix: string): Promise<Write[]> {
    const script =
      'i=0; end=$((SECONDS+$1)); while [ $SECONDS -lt $end ]; do i=$((i+1)); ' +
      'r=$(timeout 2 redis-cli -h "$2" -p "$3" SET "$4:$i" "$i" 2>/dev/null); echo "$i $(date +%s%3N) $r"; done';
    const child = spawn('ip', ['netns', 'exec', netns, 'bash', '-c', script, 'writer', String(seconds), guest, String(TEST_VM_PORT), prefix], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    return new Promise((resolve) =>
      child.once('close', () =>
        resolve(
          out
            .trim()
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => l.split(' '))
            .map(([i, t, r]) => ({ i: Number(i), t: Number(t), ok: r === 'OK' })),
        ),
      ),
    );
  }

  /** The acknowledged writes whose key does not read back with its value. */
  function lostWrites(writes: Write[], prefix: string): number[] {
    const acked = writes.filter((w) => w.ok);
    const lost: number[] = [];
    for (let k = 0; k < acked.length; k += 200) {
      const chunk = acked.slice(k, k + 200);
      const vals = redis('MGET', ...chunk.map((w) => `${prefix}:${w.i}`)).out.split('\n');
      chunk.forEach((w, j) => vals[j] !== String(w.i) && lost.push(w.i));
    }
    return lost;
  }

  /** The longest time between two acknowledged writes (ms). */
  function longestGap(writes: Write[]): number {
    const acked = writes.filter((w) => w.ok);
    let gap = 0;
    for (let k = 1; k < acked.length; k++) gap = Math.max(gap, acked[k]!.t - acked[k - 1]!.t);
    return gap;
  }

  return { redis, startWriter, lostWrites, longestGap };
}
