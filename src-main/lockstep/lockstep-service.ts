import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EventBus } from '../events/event-bus.js';
import { LockstepError, type PairStatus, type VmSide } from '../contract/index.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { LinkService } from '../link/link-service.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';
import type { Environment } from '../hosts/environment.js';
import { coloMode, protectSteps, type ColoContext, type ProtectParams } from './colo-steps.js';
import { reprotectSteps } from './reprotect-steps.js';
import { stopGuestVms } from './host-ops.js';
import { killQemu, pidOf } from '../hosts/vm-process.js';
import { pairFacts } from './pair-facts.js';
import { inLockstepRecord, PAIR_KEY, pairRecordSchema, reprotectingRecord, vmFiles, type PairRecord } from './pair-record.js';
import { HOST_PATHS, vmPaths } from '../hosts/vm-layout.js';
import { RecordRepo } from '../store/record-repo.js';
import { parseCheckpoints } from './colo-args.js';
import { failedOverRecord, observedFailover } from './observed-failover.js';
import { crossoverAddresses, relink } from './crossover-addresses.js';
import { flowBaselines, servingWarning, waitServing, watchFlow, type FlowBaseline } from './serving-check.js';
import type { HostAgents } from './host-agents.js';
import type { DiskLayer } from './disk-layer.js';
import { maintenanceStatus, notInMaintenance } from './maintenance.js';
import { userVmOf, type ProtectRequest } from './user-vm.js';
import { checkUserVm, type InspectVm } from './user-disk.js';
import { servicePeek } from './tcp-peek.js';

export interface LockstepDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  lab: Environment;
  link?: LinkService;
  nativeDir: string;
  distDir: string;
  /** the DRBD mirror under the pair, asked through this narrow interface (the core hands it in) */
  disks: DiskLayer;
  /** what COLO can carry of a user's VM (the vm capability's inspection, handed in by the core) */
  inspectVm?: InspectVm;
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : null);

/** QEMU COLO: protect the guest on two hosts, watch it, fail over, stop (drills: drill/drill-service.ts). */
export class LockstepService {
  /** set by the composition root: disarms the host agents before the VMs are stopped */
  beforeVmStop?: () => Promise<void>;
  /** set by the core: the host agents (they act on faults; their colo-failover is the one failover sequence) */
  agents?: HostAgents;

  /** the pair's record: owned here, validated on every read */
  readonly pairs: RecordRepo<PairRecord>;
  /** the status watchdog's baseline of the comparer's inputs */
  private readonly flows: RecordRepo<FlowBaseline>;

  constructor(readonly deps: LockstepDeps) {
    this.pairs = new RecordRepo(deps.store.kv, PAIR_KEY, pairRecordSchema);
    this.flows = flowBaselines(deps.store.kv);
    const ctx: ColoContext = {
      host: (ref) => deps.hosts.resolve(ref),
      session: (h) => deps.hosts.session(h),
      record: () => this.record(),
      save: (r) => this.pairs.set(r),
      guestDir: join(deps.distDir, 'guest'),
      shimFile: join(deps.distDir, 'native', 'libcolo-tcg-shim.so'),
      log: (m) => deps.bus.log('info', 'lockstep', m),
      disks: deps.disks,
      relink: () => relink(deps.link),
    };
    deps.runner.register<ProtectParams>({
      kind: 'lockstep.protect',
      title: (p) => `Protect the guest in lockstep on ${p.a} + ${p.b}`,
      steps: () => protectSteps(ctx),
    });
    deps.runner.register<ProtectParams>({
      kind: 'lockstep.reprotect',
      title: (p) => `Re-protect: ${p.a} stays primary, a new secondary on ${p.b}`,
      steps: () => reprotectSteps(ctx),
    });
  }

  record(): PairRecord | undefined {
    return this.pairs.get();
  }

  private side(hostRef: string, colo: VmSide['colo']): VmSide {
    const h = this.deps.hosts.resolve(hostRef);
    return { host: h.hostId, name: h.name, colo };
  }

  async protect(i: ProtectRequest): Promise<PairStatus> {
    const a = this.deps.hosts.resolve(i.a);
    const b = this.deps.hosts.resolve(i.b);
    // the user's own VM: its arguments checked before anything connects
    const vm = userVmOf(i, (ref) => this.deps.hosts.find(ref)?.id === a.id);
    if (a.id === b.id)
      throw new LockstepError({
        code: 'same-host',
        message: 'Primary and secondary must be two different hosts.',
        fix: 'lockstep lockstep protect HOST_A HOST_B',
      });
    const current = await this.status();
    if (current.state === 'lockstep') {
      if (current.primary.host === a.hostId && current.secondary.host === b.hostId) return current;
      throw new LockstepError({
        code: 'pair-busy',
        message: `The guest already runs in lockstep on ${current.primary.name} + ${current.secondary.name}.`,
        fix: 'lockstep lockstep stop',
      });
    }
    const prev = notInMaintenance(this.record(), (ref) => this.side(ref, 'none').name);
    if (prev?.state === 'failed-over') {
      const survivor = this.side(prev.primary, 'none').name;
      if (await this.survivorAlive(prev))
        throw new LockstepError({
          code: 'failed-over',
          message: `The guest runs alone on ${survivor}: re-protect adds a secondary while it keeps serving.`,
          fix: 'lockstep lockstep reprotect',
        });
      // a second fault took the survivor too: only its disk holds every acknowledged write
      if (a.hostId !== prev.primary)
        throw new LockstepError({
          code: 'stale-disk',
          message: `The guest last ran on ${survivor}: only that host's disk holds every acknowledged write.`,
          fix: `lockstep lockstep protect ${survivor} ${survivor === b.name ? a.name : b.name}`,
        });
    }
    if (vm) await checkUserVm({ inspect: this.deps.inspectVm, session: await this.deps.hosts.session(a), hostName: a.name }, vm, a.hostId, b.hostId);
    if (!existsSync(join(this.deps.distDir, 'guest', 'vmlinuz')))
      throw new LockstepError({ code: 'no-guest-image', message: 'The demo guest is not built.', fix: 'npm run build' });
    const lab = await this.deps.lab.status();
    const guestCidr = i.guestIp ?? (lab.state === 'up' ? `${lab.hosts.length ? lab.publicCidr.replace(/\.0\/24$/, '.50') : ''}/24` : undefined);
    if (!guestCidr)
      throw new LockstepError({
        code: 'no-guest-ip',
        message: "The guest needs an address on the hosts' public network.",
        fix: `lockstep lockstep protect ${a.hostId} ${b.hostId} --guest-ip 192.168.1.50/24`,
      });
    const { qemuMajor: ma, accel } = await pairFacts(await this.deps.hosts.session(a), await this.deps.hosts.session(b), a.name, b.name);
    const { xa, xb } = await crossoverAddresses(this.deps, i.a, i.b);
    // the guest's disk lives on the DRBD device when a mirror joins these two hosts
    // (a user VM runs from a raw file on each host, copied in full: its disk on DRBD is still to do)
    const drbd = vm ? null : this.deps.disks.forPair(a, b);
    const rec: PairRecord = {
      state: 'starting',
      primary: a.hostId,
      secondary: b.hostId,
      accel,
      qemuMajor: ma,
      xa,
      xb,
      guestAddress: guestCidr.split('/')[0]!,
      guestCidr,
      since: Date.now(),
      diskSync: drbd ? 'drbd' : 'full-copy',
      ...(drbd ? { disk: drbd } : {}),
      primaryVm: 'primary',
      generation: 0,
      ...(vm ? { vm } : {}),
    };
    // the app was killed mid-protect: the same plan resumes where it stopped (same record, same hosts)
    const resume = prev?.state === 'starting' && prev.primary === a.hostId && prev.secondary === b.hostId;
    if (!resume) this.pairs.set(rec);
    const t0 = Date.now();
    const interrupted = resume ? this.deps.runner.resumeInterrupted('lockstep.protect')[0] : undefined;
    const plan = interrupted ? await interrupted.done : await this.deps.runner.run<ProtectParams>('lockstep.protect', { a: a.hostId, b: b.hostId });
    if (plan.state !== 'done') {
      // nothing half-done: a VM left by the failed step is stopped; the disks stay as they were
      await stopGuestVms(this.deps.hosts, [a.hostId, b.hostId]);
      this.pairs.set({ ...this.record()!, state: 'stopped' });
      throw new LockstepError(plan.error ?? { code: 'protect-failed', message: 'Lockstep did not start.' });
    }
    // a resumed plan whose VMs had reached COLO on their own skipped the step that records it
    const done = this.record()!;
    this.pairs.set({ ...(done.state === 'lockstep' ? done : inLockstepRecord(done, Date.now())), protectMs: Date.now() - t0 });
    // protected means serving: the guest boots under COLO and answers through the pair (a TCG boot takes 20–40 s here)
    if ((await this.checkServing(accel === 'tcg' ? 120_000 : 45_000)) === 'stalled') return this.replaceSecondary(false);
    this.pairs.set({ ...this.record()!, protectMs: Date.now() - t0 });
    this.deps.bus.log(
      'info',
      'lockstep',
      `Protected: primary on ${a.name}, secondary in lockstep on ${b.name}${accel === 'tcg' ? ' (TCG: emulated, demo speed)' : ''}`,
    );
    return this.status();
  }

  /** Waits until the pair serves; a stalled secondary is reported (the caller replaces it), a silent guest only logged. */
  private async checkServing(deadlineMs: number): Promise<'serving' | 'stalled' | 'silent'> {
    const r = this.record()!;
    const peek = servicePeek(r.guestAddress, r.vm);
    // a user VM with no port named (--port): nothing to watch, protect does not wait for its service
    if (peek === 'unnamed') return 'serving';
    const got = await waitServing(await this.deps.hosts.session(r.primary), r.guestAddress, deadlineMs, peek);
    if (got !== 'serving') this.deps.bus.log('warn', 'lockstep', servingWarning(got, r.guestAddress));
    return got;
  }

  /** A secondary whose output stalled: the primary continues alone, the same host gets a fresh secondary (re-protect). */
  private async replaceSecondary(second: boolean): Promise<PairStatus> {
    await this.continueAlone(this.record()!);
    return this.reprotect(second);
  }

  /**
   * After a failover: the survivor stays primary (it keeps serving), the returned host gets a fresh
   * secondary and a full copy of the disk, then both run in lockstep again (roles swapped after a
   * primary loss). Resumable: an interrupted re-protect continues at its step.
   */
  async reprotect(healing = false, o: { verify?: boolean } = {}): Promise<PairStatus> {
    let r = notInMaintenance(this.record(), (ref) => this.side(ref, 'none').name);
    if (r?.state === 'lockstep') {
      // the status notices a failover the host agents did without the app (the record follows it)
      const now = await this.status();
      // in lockstep, re-protect only replaces a secondary whose output stopped reaching the comparer
      if (now.state === 'lockstep') return (await this.checkServing(20_000)) === 'stalled' ? this.replaceSecondary(false) : this.status();
      r = this.record();
    }
    if (!r || (r.state !== 'failed-over' && r.state !== 'reprotecting'))
      throw new LockstepError({
        code: 'nothing-to-reprotect',
        message: r?.state === 'stopped' ? 'The pair was stopped: there is no survivor to re-protect.' : 'The guest has not failed over.',
        fix: 'lockstep lockstep protect HOST_A HOST_B',
      });
    const next: PairRecord = r.state === 'failed-over' ? reprotectingRecord(r) : r;
    this.pairs.set(next);
    const t0 = Date.now();
    const interrupted = r.state === 'reprotecting' ? this.deps.runner.resumeInterrupted('lockstep.reprotect')[0] : undefined;
    const plan = interrupted
      ? await interrupted.done
      : await this.deps.runner.run<ProtectParams>('lockstep.reprotect', { a: next.primary, b: next.secondary, ...(o.verify ? { verify: true } : {}) });
    if (plan.state !== 'done') {
      // the survivor keeps serving alone; the next re-protect starts over from its first step
      this.pairs.set({
        ...this.record()!,
        state: 'failed-over',
        lost: next.secondary,
        failedAt: r.state === 'failed-over' ? r.failedAt : Date.now(),
      });
      throw new LockstepError(plan.error ?? { code: 'reprotect-failed', message: 'Re-protect did not finish; the guest keeps running alone.' });
    }
    if ((await this.checkServing(60_000)) === 'stalled') {
      if (!healing) return this.replaceSecondary(true);
      throw new LockstepError({
        code: 'colo-stalled',
        message: "A fresh secondary's output does not reach the comparer either: the guest answers only at checkpoints.",
        fix: 'Check the crossover (lockstep link status), then lockstep lockstep stop and protect again.',
      });
    }
    this.pairs.set({ ...this.record()!, protectMs: Date.now() - t0 });
    this.deps.bus.log(
      'info',
      'lockstep',
      `Re-protected: primary on ${this.side(next.primary, 'none').name}, secondary in lockstep on ${this.side(next.secondary, 'none').name} (${this.record()?.disk ? 'DRBD resynced what changed' : 'full disk copy host to host'}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return this.status();
  }

  async status(): Promise<PairStatus> {
    const r = this.record();
    if (!r) return { state: 'unprotected', why: 'No guest has been protected yet.' };
    if (r.state === 'stopped') return { state: 'unprotected', why: 'The pair was stopped.' };
    if (r.state === 'failed-over' && !(await this.survivorAlive(r)))
      return {
        state: 'unprotected',
        why: `The guest is down: its last VM, on ${this.side(r.primary, 'none').name}, is gone too (a second fault). That host's disk holds every acknowledged write: protect again with it first.`,
      };
    if (r.state === 'failed-over')
      return {
        state: 'failed-over',
        survivor: this.side(r.primary, 'none'),
        lost: this.side(r.lost, 'none'),
        at: r.failedAt,
        guestAddress: r.guestAddress,
      };
    if (r.state === 'maintenance') return maintenanceStatus(r, (ref) => this.side(ref, 'none'), await this.survivorAlive(r));
    if (r.state === 'starting' || r.state === 'reprotecting')
      return { state: 'starting', primary: this.side(r.primary, 'none'), secondary: this.side(r.secondary, 'none'), step: r.state };
    const sa = await this.deps.hosts.session(r.primary).catch(() => null);
    const sb = await this.deps.hosts.session(r.secondary).catch(() => null);
    const [ma, mb] = [sa ? await coloMode(sa, vmFiles(r, 'primary')) : null, sb ? await coloMode(sb, 'secondary') : null];
    if (ma !== 'primary' || mb !== 'secondary') {
      // a side may have failed over without the app (the host agents act alone): record it as a failover
      const pids = async (s: typeof sa, role: 'primary' | 'secondary') => (s ? (await pidOf(s, vmPaths(HOST_PATHS.run, vmFiles(r, role)).pid)) !== null : null);
      const seen = observedFailover({
        primaryMode: ma,
        secondaryMode: mb,
        primaryVmAlive: await pids(sa, 'primary'),
        secondaryVmAlive: await pids(sb, 'secondary'),
      });
      if (seen) {
        this.pairs.set(failedOverRecord(r, seen, Date.now()));
        const survivor = this.side(seen === 'secondary-took-over' ? r.secondary : r.primary, 'none').name;
        this.deps.bus.log('warn', 'lockstep', `Failed over without the app (host agent): the guest now runs on ${survivor} alone`);
        return this.status();
      }
      return {
        state: 'degraded',
        primary: this.side(r.primary, ma === 'primary' ? 'primary' : 'none'),
        why: `COLO is not running on both sides (primary: ${ma ?? 'unreachable'}, secondary: ${mb ?? 'unreachable'}).`,
        guestAddress: r.guestAddress,
      };
    }
    // the trace grows for as long as the pair runs: read only its recent checkpoints and the total count
    const trace = sa
      ? await sa.exec([
          'sh',
          '-c',
          'grep -c "checkpoint-request" "$1"; grep -E "checkpoint-request|vmstate-loaded" "$1" | tail -n 120',
          'sh',
          vmPaths(HOST_PATHS.run, vmFiles(r, 'primary')).trace,
        ])
      : null;
    const [countLine = '0', ...recentLines] = (trace?.stdout ?? '').split('\n');
    const cp = parseCheckpoints(recentLines.join('\n'));
    cp.checkpoints = Number(countLine) || cp.checkpoints;
    const recent = cp.times.slice(-20);
    const rate = recent.length > 1 ? (recent.length - 1) / ((recent.at(-1)! - recent[0]!) / 1000) : 0;
    return {
      state: 'lockstep',
      primary: this.side(r.primary, 'primary'),
      secondary: this.side(r.secondary, 'secondary'),
      since: r.since,
      checkpoints: cp.checkpoints,
      checkpointsPerSecond: rate,
      checkpointPauseMsP50: median(cp.pausesMs.slice(-50)),
      lastCheckpointAt: cp.times.at(-1) ?? null,
      diskSync: r.diskSync,
      ...(r.disk ? { disk: r.disk } : {}),
      ...(r.lastResync ? { lastResync: r.lastResync } : {}),
      guestAddress: r.guestAddress,
      secondaryOutput: sa ? await watchFlow(this.flows, r, sa) : undefined,
      ...(r.vm ? { vm: { source: `${r.vm.sourceHost}:${r.vm.source}`, memoryMiB: r.vm.memoryMiB, cpus: r.vm.cpus, port: r.vm.port } } : {}),
    };
  }

  /** Failover to the secondary by hand: agents held, the primary made sure dead (never two primaries), the host's colo-failover. */
  async failover(): Promise<PairStatus> {
    const r = this.record();
    if (!r || r.state !== 'lockstep')
      throw new LockstepError({ code: 'not-in-lockstep', message: 'There is no pair in lockstep to fail over.', fix: 'lockstep lockstep status' });
    await this.agents?.hold().catch(() => undefined);
    const sa = await this.deps.hosts.session(r.primary).catch(() => null);
    if (sa) await killQemu(sa, vmPaths(HOST_PATHS.run, vmFiles(r, 'primary')).pid, 200).catch(() => 'unreachable');
    await this.failoverOnSecondary(r);
    return this.status();
  }

  private hostAgents(): HostAgents {
    if (!this.agents) throw new LockstepError({ code: 'no-agents', message: 'The host agent tools are not wired in.' });
    return this.agents;
  }

  /** The secondary takes over (the primary is dead): the host's colo-failover. Returns its duration in ms. */
  async failoverOnSecondary(r: PairRecord): Promise<number> {
    const { ms } = await this.hostAgents().runFailover('secondary', r);
    this.pairs.set(failedOverRecord(r, 'secondary-took-over', Date.now()));
    this.deps.bus.log('warn', 'lockstep', `Failed over: the guest now runs on ${this.side(r.secondary, 'none').name} alone (colo-failover ${ms} ms)`);
    return ms;
  }

  /** The primary continues alone (its secondary is gone or unreachable): the host's colo-failover. */
  async continueAlone(r: PairRecord): Promise<number> {
    const { ms } = await this.hostAgents().runFailover('primary', r);
    this.pairs.set(failedOverRecord(r, 'primary-alone', Date.now()));
    this.deps.bus.log('warn', 'lockstep', `The primary on ${this.side(r.primary, 'none').name} continues alone: the guest is unprotected until re-protect`);
    return ms;
  }

  async stop(): Promise<PairStatus> {
    const r = this.record();
    if (!r) return this.status();
    // host agent: disarmed first, so that one VM stopping is not taken for a lost host
    await this.beforeVmStop?.().catch(() => undefined);
    await stopGuestVms(this.deps.hosts, [r.primary, r.secondary, ...(r.state === 'failed-over' ? [r.lost] : [])]);
    this.pairs.set({ ...r, state: 'stopped' });
    this.deps.bus.log('info', 'lockstep', 'Stopped both VMs of the pair');
    return this.status();
  }

  /** After a failover: does the survivor's VM still run? (An unreachable host counts as no.) */
  private async survivorAlive(r: PairRecord): Promise<boolean> {
    const s = await this.deps.hosts.session(r.primary).catch(() => null);
    if (!s) return false;
    return (await pidOf(s, vmPaths(HOST_PATHS.run, vmFiles(r, 'primary')).pid).catch(() => null)) !== null;
  }

  /** Where a VM's serial console is, for the Consoles view. */
  async consoleOf(side: 'primary' | 'secondary'): Promise<{ host: string; argv: string[]; title: string }> {
    const r = this.record();
    if (!r || r.state === 'stopped')
      throw new LockstepError({ code: 'no-vm', message: 'No guest is running.', fix: 'Protect the guest first (Setup → Protect).' });
    const host = side === 'primary' ? r.primary : r.state === 'failed-over' || r.state === 'maintenance' ? null : r.secondary;
    if (!host) throw new LockstepError({ code: 'no-secondary', message: 'The guest runs on one host only (failed over): there is no secondary console.' });
    // after a failover the survivor still runs the QEMU that was started as the secondary
    const role = vmFiles(r, side);
    return { host, argv: ['socat', '-', `UNIX-CONNECT:${vmPaths(HOST_PATHS.run, role).serial}`], title: `${this.side(host, 'none').name} — ${side} VM` };
  }
}
