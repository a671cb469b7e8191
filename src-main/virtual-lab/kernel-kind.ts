import { join } from 'node:path';
import { LockstepError } from '../contract/index.js';
import { runLocal, which } from '../hosts/local-exec.js';

/**
 * How a kernel host of the lab runs its own Linux kernel (real DRBD needs one):
 * - `uml`: a user-mode Linux kernel (Debian's user-mode-linux), fast to boot, light;
 * - `vm`: Debian's linux-image kernel in QEMU (TCG where there is no KVM), for machines
 *   where UML cannot run (e.g. CPUs with AMX state: UML panics at its first process).
 */
export type KernelHostKind = 'uml' | 'vm';

export interface KernelKindChoice {
  kind: KernelHostKind;
  /** a sentence for `lab status` and the window: why this kind runs here */
  why: string;
}

export interface KernelKindFacts {
  /** LOCKSTEP_LAB_KERNEL: uml | vm | auto (default) */
  forced: string | undefined;
  umlInstalled: boolean;
  /** the result of native/lab/uml/can-run.sh: 'ok' or the reason it cannot boot */
  umlProbe: () => Promise<string>;
}

const VALID = ['uml', 'vm', 'auto'];

/** Pure decision over the machine's facts: UML where it really boots, else a QEMU kernel host. */
export async function decideKernelKind(f: KernelKindFacts): Promise<KernelKindChoice> {
  const forced = (f.forced ?? 'auto').trim() || 'auto';
  if (!VALID.includes(forced))
    throw new LockstepError({
      code: 'bad-lab-kernel',
      message: `LOCKSTEP_LAB_KERNEL must be uml, vm or auto (got ${JSON.stringify(forced)}).`,
      fix: 'unset LOCKSTEP_LAB_KERNEL',
    });
  if (forced === 'vm') return { kind: 'vm', why: 'QEMU kernel hosts, as asked (LOCKSTEP_LAB_KERNEL=vm).' };
  if (!f.umlInstalled) {
    if (forced === 'uml')
      throw new LockstepError({
        code: 'lab-missing-packages',
        message: 'User-mode Linux was asked for (LOCKSTEP_LAB_KERNEL=uml) but linux.uml is not installed.',
        fix: 'apt-get install -y user-mode-linux uml-utilities',
      });
    return { kind: 'vm', why: 'User-mode Linux is not installed, so each kernel host is a QEMU virtual machine.' };
  }
  const probe = await f.umlProbe();
  if (probe === 'ok')
    return { kind: 'uml', why: forced === 'uml' ? 'User-mode Linux, as asked (LOCKSTEP_LAB_KERNEL=uml).' : 'User-mode Linux boots on this machine.' };
  if (forced === 'uml')
    throw new LockstepError({
      code: 'lab-uml-cannot-run',
      message: `User-mode Linux was asked for (LOCKSTEP_LAB_KERNEL=uml) but cannot run on this machine: ${probe}`,
      fix: 'unset LOCKSTEP_LAB_KERNEL (the lab then boots QEMU kernel hosts instead)',
    });
  return { kind: 'vm', why: `User-mode Linux cannot run on this machine (${probe}), so each kernel host is a QEMU virtual machine.` };
}

/** The facts of this machine: the env override, linux.uml installed, and a one-second UML boot test. */
export function machineKernelFacts(nativeDir: string): KernelKindFacts {
  return {
    forced: process.env.LOCKSTEP_LAB_KERNEL,
    umlInstalled: false,
    umlProbe: async () => {
      const r = await runLocal(['bash', join(nativeDir, 'lab/uml/can-run.sh')], { timeoutMs: 60_000 });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      return line === 'ok' ? 'ok' : line.replace(/^no:\s*/, '') || `its boot test failed (exit ${r.code})`;
    },
  };
}

export async function chooseKernelKind(nativeDir: string): Promise<KernelKindChoice> {
  const facts = machineKernelFacts(nativeDir);
  facts.umlInstalled = await which('linux.uml');
  return decideKernelKind(facts);
}

/** Where each kind keeps its scripts and state, and what the host calls its data disk. */
export function kernelHostFiles(kind: KernelHostKind): { scripts: string; stateSub: string; pidFile: string; console: string; dataDisk: string } {
  return kind === 'uml'
    ? { scripts: 'lab/uml', stateSub: 'uml', pidFile: 'uml.pid', console: 'uml.log', dataDisk: '/dev/ubda' }
    : { scripts: 'lab/vm', stateSub: 'vm', pidFile: 'vm.pid', console: 'vm.log', dataDisk: '/dev/vda' };
}

/**
 * The size of each kernel host's empty data disk (the DRBD backing disk): LOCKSTEP_LAB_DATA_SIZE,
 * e.g. 1100M or 2G (default 256M). A sparse file, made once; a host that boots again keeps its disk.
 */
export function labDataSize(env: Record<string, string | undefined> = process.env): string {
  const v = env.LOCKSTEP_LAB_DATA_SIZE ?? '256M';
  const m = /^(\d{1,6})([MG])$/.exec(v);
  const mib = m ? Number(m[1]) * (m[2] === 'G' ? 1024 : 1) : 0;
  if (!m || mib < 64 || mib > 64 * 1024)
    throw new LockstepError({
      code: 'lab-bad-data-size',
      message: `LOCKSTEP_LAB_DATA_SIZE must be a size from 64M to 64G like 256M or 2G (got ${JSON.stringify(v.slice(0, 40))}).`,
      fix: 'unset LOCKSTEP_LAB_DATA_SIZE (256M), or e.g. LOCKSTEP_LAB_DATA_SIZE=2G',
    });
  return v;
}
