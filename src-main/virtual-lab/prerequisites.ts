import { LockstepError, type LabFlavour } from '../contract/index.js';
import { which } from './local.js';

const needs: { program: string; pkg: string; flavours: LabFlavour[] }[] = [
  { program: 'ip', pkg: 'iproute2', flavours: ['namespaces', 'kernel'] },
  { program: 'sshd', pkg: 'openssh-server', flavours: ['namespaces', 'kernel'] },
  { program: 'ssh-keygen', pkg: 'openssh-client', flavours: ['namespaces', 'kernel'] },
  { program: 'unshare', pkg: 'util-linux', flavours: ['namespaces'] },
  { program: 'qemu-system-x86_64', pkg: 'qemu-system-x86', flavours: ['namespaces', 'kernel'] },
  { program: 'qemu-img', pkg: 'qemu-utils', flavours: ['namespaces', 'kernel'] },
  { program: 'linux.uml', pkg: 'user-mode-linux', flavours: ['kernel'] },
  { program: 'uml_mconsole', pkg: 'uml-utilities', flavours: ['kernel'] },
  { program: 'drbdadm', pkg: 'drbd-utils', flavours: ['kernel'] },
  { program: 'modprobe', pkg: 'kmod', flavours: ['kernel'] },
];

/** Fails before anything is changed: not root, or a program missing (with the exact install command). */
export async function checkPrerequisites(
  flavour: LabFlavour,
  env: { uid: number; has: (program: string) => Promise<boolean> } = { uid: process.getuid?.() ?? -1, has: which },
): Promise<void> {
  const { uid } = env;
  if (uid !== 0) {
    throw new LockstepError({
      code: 'lab-needs-root',
      message: 'The virtual lab creates network namespaces and bridges, which needs root.',
      fix: 'sudo lockstep lab up   (or run the app as root)',
    });
  }
  const missing: string[] = [];
  for (const n of needs) {
    if (n.flavours.includes(flavour) && !(await env.has(n.program))) missing.push(n.pkg);
  }
  if (missing.length) {
    throw new LockstepError({
      code: 'lab-missing-packages',
      message: `The virtual lab needs programs that are not installed (${[...new Set(missing)].join(', ')}).`,
      fix: `apt-get install -y ${[...new Set(missing)].join(' ')}`,
    });
  }
}
