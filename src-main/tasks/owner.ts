import { readFileSync } from 'node:fs';

/** A process's start time (clock ticks since boot), so a reused PID is not mistaken for a live owner. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 2 (comm) may contain spaces and parentheses: split after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

export function isOwnerAlive(pid: number | null, start: string | null): boolean {
  if (pid === null) return false;
  const now = processStartTime(pid);
  return now !== null && now === start;
}

export const self = { pid: process.pid, start: processStartTime(process.pid) ?? String(Date.now()) };
