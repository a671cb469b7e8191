/** A VM's QEMU process on a host, by its pid file: alive or not, and stopped within a deadline. */
import type { SshSession } from './ssh-session.js';

/** The live pid in a pid file, or null. A zombie counts as dead: a killed QEMU may wait seconds for its reaper. */
export async function pidOf(s: SshSession, pidFile: string): Promise<number | null> {
  const r = await s.exec([
    'sh',
    '-c',
    'p=$(cat "$1" 2>/dev/null) || exit 1; st=$(sed "s/.*) //" "/proc/$p/stat" 2>/dev/null | cut -d" " -f1); [ -n "$st" ] && [ "$st" != Z ] && echo "$p"',
    'sh',
    pidFile,
  ]);
  const pid = Number(r.stdout.trim());
  return r.code === 0 && Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Stop a QEMU by its pid file: QMP quit is tried by the caller; here SIGTERM, then SIGKILL after a deadline. */
export async function killQemu(s: SshSession, pidFile: string, graceMs = 3000): Promise<'not-running' | 'terminated' | 'killed'> {
  const pid = await pidOf(s, pidFile);
  if (pid === null) return 'not-running';
  await s.exec(['kill', '-TERM', String(pid)]);
  const end = Date.now() + graceMs;
  while (Date.now() < end) {
    if ((await s.exec(['kill', '-0', String(pid)])).code !== 0) return 'terminated';
    await new Promise((r) => setTimeout(r, 100));
  }
  await s.exec(['kill', '-KILL', String(pid)]);
  return 'killed';
}
