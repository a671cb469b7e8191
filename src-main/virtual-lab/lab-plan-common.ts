import { join } from 'node:path';
import type { RecordRepo } from '../store/record-repo.js';
import { mustLocal, runLocal } from '../hosts/local-exec.js';
import type { LabRecord } from './lab-state.js';
import { linkExists, waitFor } from './observe.js';
import type { KernelHostKind } from './kernel-kind.js';
import type { LabHostLayout, LabLayout } from './topology.js';

/** What the lab's plans share: their params, their dependencies, the lab's files and record. */
export interface LabUpParams {
  flavour: 'namespaces' | 'kernel';
  /** kernel flavour: user-mode Linux or QEMU hosts (absent in plans journaled before it existed: uml) */
  kernelKind?: KernelHostKind;
  layout: LabLayout;
  dir: string;
  accel: 'kvm' | 'tcg';
}

export interface LabDeps {
  /** the lab's record (validated on every read) */
  labs: RecordRepo<LabRecord>;
  nativeDir: string;
  /** what native/lab/vm/build.sh made (dist/labvm): the QEMU kernel hosts' kernel, initrd, modules */
  labVmDir: string;
}

export const keyFile = (dir: string) => join(dir, 'id_ed25519');
export const hostDir = (dir: string, h: LabHostLayout) => join(dir, h.name);
export const hostKey = (dir: string, h: LabHostLayout) => join(hostDir(dir, h), 'ssh_host_ed25519_key');

export async function runAll(cmds: string[][]): Promise<void> {
  for (const c of cmds) await mustLocal(c, { fix: 'lockstep lab down, then lockstep lab up' });
}

/** Waits for links to vanish (namespace teardown is asynchronous), deleting any that stay. */
export async function clearLinks(names: string[], netns?: string): Promise<void> {
  const gone = async () => {
    for (const n of names) if (await linkExists(n, netns)) return false;
    return true;
  };
  if (await waitFor(gone, 3000, 50)) return;
  for (const n of names) if (await linkExists(n, netns)) await runLocal(netns ? ['ip', '-n', netns, 'link', 'del', n] : ['ip', 'link', 'del', n]);
  await waitFor(gone, 3000, 50);
}

export function record(deps: LabDeps): LabRecord | undefined {
  return deps.labs.get();
}

export function patchRecord(deps: LabDeps, f: (r: LabRecord) => void): void {
  const r = record(deps);
  if (!r) return;
  f(r);
  deps.labs.set(r);
}
