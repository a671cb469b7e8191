import { installFixAnyDistro } from '../hosts/distro.js';
import { LockstepError } from '../contract/index.js';
import type { SshSession } from '../hosts/ssh-session.js';
import { hostId } from '../hosts/ssh-session.js';
import { Qmp } from '../hosts/qmp.js';
import { HOST_PATHS, vmPaths } from '../hosts/vm-layout.js';
import { killQemu, pidOf } from '../hosts/vm-process.js';

export async function qemuMajor(s: SshSession): Promise<number> {
  const v = await s.check(['qemu-system-x86_64', '--version'], { fix: `Install QEMU: ${installFixAnyDistro(['qemu-system-x86_64'])}` });
  const m = /version (\d+)\.(\d+)/.exec(v);
  if (!m) throw new LockstepError({ code: 'qemu-version', message: `Cannot read the QEMU version on ${hostId(s.target)}.`, cause: v.slice(0, 100) });
  return Number(m[1]);
}

/** Every guest VM on these hosts: `quit` over QMP, then SIGTERM → SIGKILL; unreachable hosts are skipped. */
export async function stopGuestVms(hosts: { session(ref: string): Promise<SshSession> }, refs: string[]): Promise<void> {
  for (const ref of refs) {
    const s = await hosts.session(ref).catch(() => null);
    if (!s) continue;
    for (const role of ['primary', 'secondary'] as const) {
      const pidFile = vmPaths(HOST_PATHS.run, role).pid;
      if ((await pidOf(s, pidFile).catch(() => null)) === null) continue;
      const q = await Qmp.open(s, vmPaths(HOST_PATHS.run, role).qmp, { timeoutMs: 2000 }).catch(() => null);
      await q?.exec('quit', undefined, { timeoutMs: 2000 }).catch(() => undefined);
      q?.close();
      await killQemu(s, pidFile, 3000).catch(() => undefined);
    }
  }
}
