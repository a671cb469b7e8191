import { describe, expect, it } from 'vitest';
import { LockstepError } from '../../src-main/contract/index.js';
import { failedOverRecord } from '../../src-main/lockstep/observed-failover.js';
import type { PairRecord } from '../../src-main/lockstep/pair-record.js';
import { pairFilesOnHost, unprotectConfirm, unprotectPlan, unprotectWords } from '../../src-main/lockstep/unprotect-plan.js';

const A = '10.0.0.11:22';
const B = '10.0.0.12:22';
const name = (ref: string) => (ref === A ? 'hostA' : ref === B ? 'hostB' : ref);
const pair: PairRecord = {
  state: 'lockstep',
  primary: A,
  secondary: B,
  accel: 'tcg',
  qemuMajor: 7,
  xa: '10.99.0.1',
  xb: '10.99.0.2',
  guestAddress: '10.0.0.50',
  guestCidr: '10.0.0.50/24',
  since: 1000,
  diskSync: 'full-copy',
  primaryVm: 'primary',
  generation: 1,
  vm: { kind: 'image', sourceHost: 'hostA', source: '/srv/vm.qcow2', memoryMiB: 256, cpus: 1, mac: '52:54:00:4c:53:10' },
};

const refusal = (r: PairRecord): LockstepError => {
  try {
    unprotectPlan(r, name);
  } catch (e) {
    return e as LockstepError;
  }
  throw new Error('not refused');
};

describe('unprotect plan: which host keeps the VM, what goes where', () => {
  it('in lockstep: the primary keeps its VM after its colo-failover, the secondary host is cleaned; the confirmation names it', () => {
    const p = unprotectPlan(pair, name)!;
    expect(p).toMatchObject({ keep: { host: A, vmFiles: 'primary' }, clean: B, failover: true, disk: '/var/lib/lockstep/guest/user-disk.img' });
    expect(unprotectConfirm(p, name)).toBe('hostB');
  });

  it('after the secondary took over: hostB keeps the VM it started as the secondary (no failover again), hostA is cleaned', () => {
    const fo = failedOverRecord(pair, 'secondary-took-over', 5000);
    const p = unprotectPlan(fo, name)!;
    expect(p).toMatchObject({ keep: { host: B, vmFiles: 'secondary' }, clean: A, failover: false });
    expect(unprotectConfirm(p, name)).toBe('hostA');
  });

  it('after the primary continued alone: it keeps the VM, the lost secondary host is cleaned', () => {
    const p = unprotectPlan(failedOverRecord(pair, 'primary-alone', 5000), name)!;
    expect(p).toMatchObject({ keep: { host: A, vmFiles: 'primary' }, clean: B, failover: false });
  });

  it('no pair: nothing to do (null)', () => {
    expect(unprotectPlan(undefined, name)).toBeNull();
  });

  it('refuses a stopped, starting, re-protecting pair or one in maintenance, each with its fix', () => {
    expect(refusal({ ...pair, state: 'stopped' })).toMatchObject({ code: 'unprotect-not-running' });
    expect(refusal({ ...pair, state: 'starting' }).code).toBe('unprotect-starting');
    expect(refusal({ ...pair, state: 'reprotecting' }).fix).toContain('lockstep lockstep reprotect');
    const m = refusal({
      ...pair,
      state: 'maintenance',
      maintenance: { host: B, enteredAt: 1, hostRole: 'secondary', preferredPrimary: A, agentsArmed: true },
    });
    expect(m.message).toContain('hostB is in maintenance');
    expect(m.fix).toContain('maintenance exit hostB');
  });

  it('removes the run directory, the disk copy and the boot files — never a DRBD device', () => {
    expect(pairFilesOnHost(pair)).toEqual([
      '/run/lockstep/vm',
      '/var/lib/lockstep/guest/user-disk.img',
      '/var/lib/lockstep/guest/user-disk.from',
      '/var/lib/lockstep/guest/vmlinuz',
      '/var/lib/lockstep/guest/initrd.img',
      '/var/lib/lockstep/lib/libcolo-tcg-shim.so',
    ]);
    const { vm: _vm, ...demo } = pair;
    const onDrbd: PairRecord = { ...demo, diskSync: 'drbd', disk: { resource: 'r0', device: '/dev/drbd0' } };
    expect(pairFilesOnHost(onDrbd).some((f) => f.includes('disk') || f.startsWith('/dev/'))).toBe(false);
    expect(pairFilesOnHost(demo as PairRecord)).toContain('/var/lib/lockstep/guest/disk.img');
    expect(unprotectPlan(onDrbd, name)!.disk).toBe('/dev/drbd0');
  });

  it('says what it stops and removes on which host before anything happens', () => {
    const w = unprotectWords(pair, unprotectPlan(pair, name)!, name);
    expect(w).toContain('your VM (/srv/vm.qcow2): it keeps running on hostA as one plain VM (COLO failover on hostA');
    expect(w).toContain("On hostB it stops the pair's QEMU and deletes its disk copy (/var/lib/lockstep/guest/user-disk.img)");
    expect(w).toContain('host agents are stopped on both hosts');
    const fo = failedOverRecord(pair, 'secondary-took-over', 5000);
    const wf = unprotectWords(fo, unprotectPlan(fo, name)!, name);
    expect(wf).toContain('keeps running on hostB as one plain VM, its disk');
    expect(wf).not.toContain('COLO failover');
  });
});
