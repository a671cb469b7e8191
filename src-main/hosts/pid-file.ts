/** This machine's daemons started by the app: the pid in a pid file, if that process still runs and is ours. */
import { readFileSync } from 'node:fs';

/**
 * The pid written in `pidFile`, when that process is alive (not a zombie) and `ours` recognises its
 * command line (NUL-separated, as /proc shows it): a pid reused by another program is not ours.
 */
export function livePid(pidFile: string, ours: (cmdline: string) => boolean): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1) return null;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return ours(cmd) && !/\) [ZX] /.test(stat) ? pid : null;
  } catch {
    return null;
  }
}
