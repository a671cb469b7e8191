import { LockstepError, type LabFlavour } from '../contract/index.js';
import type { KernelHostKind } from './kernel-kind.js';
import { which } from '../hosts/local-exec.js';

type Need = 'namespaces' | 'kernel' | KernelHostKind;

const needs: { program: string; pkg: string; for: Need[] }[] = [
  { program: 'ip', pkg: 'iproute2', for: ['namespaces', 'kernel'] },
  { program: 'sshd', pkg: 'openssh-server', for: ['namespaces', 'kernel'] },
  { program: 'ssh-keygen', pkg: 'openssh-client', for: ['namespaces', 'kernel'] },
  { program: 'unshare', pkg: 'util-linux', for: ['namespaces'] },
  { program: 'qemu-system-x86_64', pkg: 'qemu-system-x86', for: ['namespaces', 'kernel'] },
  { program: 'qemu-img', pkg: 'qemu-utils', for: ['namespaces', 'kernel'] },
  { program: 'linux.uml', pkg: 'user-mode-linux', for: ['uml'] },
  { program: 'uml_mconsole', pkg: 'uml-utilities', for: ['uml'] },
  { program: 'socat', pkg: 'socat', for: ['vm'] },
  { program: 'busybox', pkg: 'busybox-static', for: ['vm'] },
  { program: 'drbdadm', pkg: 'drbd-utils', for: ['kernel'] },
  { program: 'modprobe', pkg: 'kmod', for: ['kernel'] },
];

/**
 * Fails before anything is changed: not root, or a program missing (with the exact install
 * command). Kernel hosts need the programs of the kind that runs on this machine only.
 */
export async function checkPrerequisites(
  flavour: LabFlavour,
  env: { uid: number; has: (program: string) => Promise<boolean>; kernelKind?: KernelHostKind } = {
    uid: process.getuid?.() ?? -1,
    has: which,
  },
): Promise<void> {
  const { uid } = env;
  if (uid !== 0) {
    throw new LockstepError({
      code: 'lab-needs-root',
      message: 'The virtual lab creates network namespaces and bridges, which needs root.',
      fix: 'sudo lockstep lab up   (or run the app as root)',
    });
  }
  const wanted = new Set<Need>([flavour]);
  if (flavour === 'kernel' && env.kernelKind) wanted.add(env.kernelKind);
  const missing: string[] = [];
  for (const n of needs) {
    if (n.for.some((f) => wanted.has(f)) && !(await env.has(n.program))) missing.push(n.pkg);
  }
  if (missing.length) {
    throw new LockstepError({
      code: 'lab-missing-packages',
      message: `The virtual lab needs programs that are not installed (${[...new Set(missing)].join(', ')}).`,
      fix: `apt-get install -y ${[...new Set(missing)].join(' ')}`,
    });
  }
}
