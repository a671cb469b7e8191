import { readSshBanner } from '../hosts/banner.js';

import { existsSync, readFileSync } from 'node:fs';
import { runLocal } from '../hosts/local-exec.js';
import { ownedNames } from './topology.js';

export async function netnsList(): Promise<string[]> {
  const r = await runLocal(['ip', '-j', 'netns', 'list']);
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
}

export async function linkExists(name: string, netns?: string): Promise<boolean> {
  const r = await runLocal(netns ? ['ip', '-n', netns, 'link', 'show', 'dev', name] : ['ip', 'link', 'show', 'dev', name]);
  return r.code === 0;
}

export async function netnsPids(netns: string): Promise<number[]> {
  const r = await runLocal(['ip', 'netns', 'pids', netns]);
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** Everything of the lab with this prefix that still exists on the machine. */
export async function leftovers(prefix: string, dir?: string): Promise<string[]> {
  const owned = ownedNames(prefix);
  const ns = new Set(await netnsList());
  const out: string[] = [];
  for (const n of owned.netns) {
    if (ns.has(n)) {
      const pids = await netnsPids(n);
      out.push(`netns ${n}${pids.length ? ` (processes ${pids.join(' ')})` : ''}`);
    }
  }
  for (const l of owned.rootLinks) if (await linkExists(l)) out.push(`link ${l}`);
  if (dir && existsSync(`${dir}/mounts`)) out.push(`mounts listed in ${dir}/mounts`);
  return out;
}

/** Resolves true once something on address:port speaks SSH. */
export async function sshBanner(address: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return (await readSshBanner(address, port, timeoutMs)) !== null;
}

export async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, intervalMs = 200, signal?: AbortSignal): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (signal?.aborted) return false;
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return cond();
}
