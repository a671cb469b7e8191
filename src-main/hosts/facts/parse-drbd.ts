/** Pure: the drbd-* sections (/proc/drbd, modinfo, drbdadm --version) → DrbdFacts. */
import type { DrbdFacts } from './facts.js';
import { firstLine, ok, type Section } from './parse-sections.js';

export function parseDrbd(s: Map<string, Section>): DrbdFacts {
  const proc = ok(s, 'drbd-proc');
  const loadedVersion = proc?.map((l) => /^version:\s*(\d+\.\d+(?:\.\d+)?)/.exec(l)?.[1]).find((v) => v !== undefined) ?? null;
  const modinfo = firstLine(s, 'drbd-modinfo');
  const modinfoVersion = modinfo !== null ? (/^(\d+\.\d+(?:\.\d+)?)/.exec(modinfo)?.[1] ?? null) : null;
  const kv = new Map<string, string>();
  for (const l of ok(s, 'drbdadm-version') ?? []) {
    const m = /^([A-Z_]+)=(.*)$/.exec(l.trim());
    if (m) kv.set(m[1]!, m[2]!);
  }
  const utilsVersion = kv.get('DRBDADM_VERSION') ?? null;
  const adminKernel = kv.get('DRBD_KERNEL_VERSION');
  const adminKernelVersion = adminKernel && /^\d+\.\d+/.test(adminKernel) ? adminKernel : null;
  const kernelVersion = loadedVersion ?? adminKernelVersion ?? modinfoVersion;
  const major = kernelVersion !== null ? Number(kernelVersion.split('.')[0]) : null;
  return {
    kernelVersion,
    moduleLoaded: proc !== null,
    utilsVersion: utilsVersion !== null && /^\d+\.\d+/.test(utilsVersion) ? utilsVersion : null,
    apiMajor: major === 8 || major === 9 ? major : null,
  };
}
