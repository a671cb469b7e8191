/**
 * Host maintenance (issue 20): take one host of the pair out for a patch and a reboot while the
 * guest keeps serving, then bring it back into lockstep. Enter: a planned switchover when the host
 * runs the primary (the host agents held, the other host's secondary takes over through the same
 * host colo-failover a manual failover runs, the old primary stopped), else the primary continues
 * alone; the host's VM is stopped; the pair record says maintenance. Exit: the host answers with
 * the same QEMU, re-protect (the existing plan), optionally a failback, the agents armed again.
 * Pure decisions and words: maintenance.ts; the client's view of each moment: the core's watch.
 */
import { LockstepError } from '../contract/index.js';
import type { MaintenanceReport, MaintenanceStatus } from '../contract/maintenance.js';
import { readSshBanner } from '../hosts/banner.js';
import { RecordRepo } from '../store/record-repo.js';
import { vmPaths, HOST_PATHS } from '../hosts/vm-layout.js';
import { qemuMajor, stopGuestVms } from './host-ops.js';
import { pidOf } from '../hosts/vm-process.js';
import type { LockstepService } from './lockstep-service.js';
import { enterRefusal, maintenanceRecord, maintenanceWords, returnedRecord, roleOf, statusOf, switchoverGap, unprotectedSeconds } from './maintenance.js';
import { KEEP_REPORTS, MAINTENANCE_KEY, maintenanceLogSchema, type MaintenanceLog } from './maintenance-record.js';
import { vmFiles, type PairRecord } from './pair-record.js';

/** What an ordinary client saw across one moment (null fields: not measured). */
export type { ClientSeen, ClientWatch } from '../contract/maintenance.js';
import type { ClientSeen, ClientWatch } from '../contract/maintenance.js';

const NOT_MEASURED: ClientSeen = { ordinaryClientMs: null, streamMs: null, streamSurvived: null, wentBackwards: null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** the client watches this long before a switchover (its start in the client namespace and a baseline) and after the step finished */
const BEFORE_MS = 4000;
const AFTER_MS = 5000;

export class MaintenanceService {
  /** set by the core: a client of the guest (the lab's client namespace) that measures each moment */
  watchClients?: (address: string) => Promise<ClientWatch>;
  private readonly log: RecordRepo<MaintenanceLog>;

  constructor(private readonly lockstep: LockstepService) {
    this.log = new RecordRepo(lockstep.deps.store.kv, MAINTENANCE_KEY, maintenanceLogSchema);
  }

  private get deps() {
    return this.lockstep.deps;
  }

  private name(ref: string): string {
    return this.deps.hosts.resolve(ref).name;
  }

  private current(): MaintenanceReport | null {
    return this.log.get()?.reports[0] ?? null;
  }

  private save(report: MaintenanceReport): void {
    const rest = (this.log.get()?.reports ?? []).filter((x) => x.id !== report.id);
    const now = Date.now();
    const r = { ...report, unprotectedSeconds: unprotectedSeconds(report.unprotected, now), switchoverGapMs: switchoverGap(report.gaps) };
    this.log.set({ reports: [r, ...rest].slice(0, KEEP_REPORTS) });
  }

  async status(): Promise<MaintenanceStatus> {
    const r = this.lockstep.record();
    const report = this.current();
    if (r?.state === 'maintenance' && report && report.hostId === r.maintenance.host) {
      this.save(report);
      return statusOf(this.current(), true, maintenanceWords(report.host, report.survivor));
    }
    return statusOf(report, false);
  }

  /** Runs one client-visible step with a client watching (when the core gave one). */
  private async watched<T>(address: string, step: () => Promise<T>): Promise<{ value: T; seen: ClientSeen; stepMs: number }> {
    const watch = await this.watchClients?.(address).catch(() => undefined);
    if (watch) await sleep(BEFORE_MS);
    const t0 = Date.now();
    watch?.fault();
    let value: T;
    try {
      value = await step();
    } catch (e) {
      await watch?.stop(0).catch(() => undefined);
      throw e;
    }
    const stepMs = Date.now() - t0;
    watch?.handled();
    const seen = watch ? await watch.stop(AFTER_MS).catch(() => NOT_MEASURED) : NOT_MEASURED;
    return { value, seen, stepMs };
  }

  /**
   * The planned switchover (agents held): the secondary takes over FIRST, while the primary still runs
   * and still mirrors the clients' packets to it, then the primary is killed at once. Stopping the
   * primary first (as before) lost every packet that reached its host until the secondary's colo-failover
   * ran over SSH (a lost SYN costs an ordinary client 1 s); SIGKILL, not SIGTERM: a terminated QEMU's
   * colo-compare releases the outputs it still held, which the secondary has not produced alike.
   */
  private async switchover(r: PairRecord): Promise<number> {
    const s = await this.deps.hosts.session(r.primary).catch(() => null);
    const pid = s ? await pidOf(s, vmPaths(HOST_PATHS.run, vmFiles(r, 'primary')).pid).catch(() => null) : null;
    const ms = await this.lockstep.failoverOnSecondary(r);
    if (s && pid !== null) await s.exec(['kill', '-KILL', String(pid)]).catch(() => undefined);
    return ms;
  }

  async enter(hostRef: string): Promise<MaintenanceStatus> {
    const h = this.deps.hosts.resolve(hostRef);
    const live = await this.lockstep.status();
    const r = this.lockstep.record();
    const refusal = enterRefusal(r, live.state, h);
    if (refusal) throw refusal;
    if (r!.state === 'maintenance') return this.status();
    const role = roleOf(r!, h.hostId)!;
    const agents = this.lockstep.agents;
    const agentsArmed = agents ? (await agents.notArmed(r!).catch(() => 'unknown')) === null : false;
    const other = role === 'primary' ? r!.secondary : r!.primary;
    const report: MaintenanceReport = {
      id: (this.current()?.id ?? 0) + 1,
      host: h.name,
      hostId: h.hostId,
      hostRole: role,
      survivor: this.name(other),
      enteredAt: Date.now(),
      protectedAt: null,
      unprotectedSeconds: 0,
      resyncBytes: 0,
      gaps: [],
      switchoverGapMs: null,
      failback: false,
      agentsArmed,
      primaryNow: this.name(other),
      unprotected: [],
      notes: [],
    };
    // no failover and no alarm while the host is out: both agents disarmed until they are deployed again;
    // unprotected from here until the pair is in lockstep with the agents armed again
    report.unprotected.push([report.enteredAt, null]);
    await agents?.hold().catch(() => undefined);
    this.deps.bus.log(
      'info',
      'lockstep',
      `Maintenance of ${h.name}: ${role === 'primary' ? 'planned switchover to ' + report.survivor : 'the primary continues alone'}`,
    );
    if (role === 'primary') {
      const { seen, stepMs } = await this.watched(r!.guestAddress, () => this.switchover(r!));
      report.gaps.push({ what: 'enter', at: Date.now(), from: h.name, to: report.survivor, stepMs, ...seen });
    } else {
      await this.lockstep.continueAlone(r!);
    }
    // the host's side retired: no VM of the pair runs there any more (its DRBD side, with DRBD, stays Secondary/disconnected)
    await stopGuestVms(this.deps.hosts, [h.hostId]);
    const after = this.lockstep.record();
    if (after?.state !== 'failed-over')
      throw new LockstepError({
        code: 'maintenance-failed',
        message: `The pair did not end up running on ${report.survivor} alone.`,
        fix: 'lockstep lockstep status',
      });
    this.lockstep.pairs.set(maintenanceRecord(after, { enteredAt: report.enteredAt, hostRole: role, preferredPrimary: r!.primary, agentsArmed }));
    this.save(report);
    const words = maintenanceWords(h.name, report.survivor);
    this.deps.bus.log('warn', 'lockstep', `${words.say} ${words.risk}`);
    return this.status();
  }

  /** Exit: the host is back (SSH, same QEMU), re-protect, optionally fail back, arm the agents again. */
  async exit(hostRef: string, failback: boolean): Promise<MaintenanceStatus> {
    const h = this.deps.hosts.resolve(hostRef);
    let r = this.lockstep.record();
    let report = this.current();
    const resuming = report && report.hostId === h.hostId && report.protectedAt === null && (r?.state === 'failed-over' || r?.state === 'reprotecting');
    if (r?.state !== 'maintenance' && !resuming) {
      if (report?.hostId === h.hostId && report.protectedAt !== null && r?.state === 'lockstep') return this.status();
      throw new LockstepError({
        code: 'not-in-maintenance',
        message: `${h.name} is not in maintenance.`,
        fix: 'lockstep host maintenance status',
      });
    }
    if (r?.state === 'maintenance' && r.maintenance.host !== h.hostId)
      throw new LockstepError({
        code: 'not-in-maintenance',
        message: `${h.name} is not in maintenance; ${this.name(r.maintenance.host)} is.`,
        fix: `lockstep host maintenance exit ${this.name(r.maintenance.host)}`,
      });
    if (!report) throw new LockstepError({ code: 'no-maintenance-report', message: 'The maintenance cycle has no record.', fix: 'lockstep lockstep status' });
    const mark = r!.state === 'maintenance' ? r!.maintenance : undefined;
    await this.hostBack(h, r!);
    if (r!.state === 'maintenance') this.lockstep.pairs.set(returnedRecord(r!, Date.now()));
    report = await this.reprotect(report);
    r = this.lockstep.record()!;
    const preferred = mark?.preferredPrimary ?? (report.hostRole === 'primary' ? report.hostId : r.primary);
    if (failback && r.primary !== preferred) {
      report.failback = true;
      await this.lockstep.agents?.hold().catch(() => undefined);
      const { seen, stepMs } = await this.watched(r.guestAddress, () => this.switchover(r!));
      report.gaps.push({ what: 'failback', at: Date.now(), from: this.name(r.primary), to: this.name(r.secondary), stepMs, ...seen });
      await stopGuestVms(this.deps.hosts, [r.primary]);
      this.save(report);
      report = await this.reprotect(report);
    } else if (failback) report.notes.push(`No failback needed: the primary already runs on ${this.name(r.primary)}.`);
    const now = this.lockstep.record()!;
    report.primaryNow = this.name(now.primary);
    if (mark?.agentsArmed ?? report.agentsArmed) {
      const armed = await this.lockstep.agents?.ensureArmed(now).catch((e: Error) => e);
      if (armed instanceof Error) report.notes.push(`The host agents could not be armed again: ${armed.message} (fix: lockstep agent deploy)`);
      else if (armed) report.notes.push('The host agents are armed again for the new roles.');
    }
    report.protectedAt = Date.now();
    report.unprotected = report.unprotected.map(([a, b]) => [a, b ?? report!.protectedAt]);
    this.save(report);
    this.deps.bus.log('info', 'lockstep', `${h.name} is back: the guest is protected again (primary on ${report.primaryNow})`);
    return this.status();
  }

  /** The host answers SSH and runs the pair's QEMU version (COLO needs the same on both). */
  private async hostBack(h: { hostId: string; name: string; address: string; port: number }, r: PairRecord): Promise<void> {
    const down = (cause: string) =>
      new LockstepError({
        code: 'host-still-down',
        message: `${h.name} does not answer over SSH yet: the guest keeps running alone on ${this.name(r.primary)}.`,
        cause,
        host: h.hostId,
        fix: `Wait until ${h.name} has booted (virtual lab: lockstep lab power ${h.name} on), then lockstep host maintenance exit ${h.name}`,
      });
    if (!(await readSshBanner(h.address, h.port, 3000))) throw down(`no SSH banner from ${h.address}:${h.port} within 3 s`);
    const s = await this.deps.hosts.session(h.hostId).catch((e: Error) => {
      throw down(e.message);
    });
    const major = await qemuMajor(s);
    if (major !== r.qemuMajor)
      throw new LockstepError({
        code: 'qemu-differs',
        message: `${h.name} came back with QEMU ${major}.x, the guest runs on QEMU ${r.qemuMajor}.x: COLO needs the same version on both hosts.`,
        host: h.hostId,
        fix: `Install QEMU ${r.qemuMajor}.x on ${h.name} (lockstep preflight run ${h.name} ${this.name(r.primary)}), then lockstep host maintenance exit ${h.name}`,
      });
  }

  /** The existing re-protect, watched by a client (its join pauses the guest); records what it copied. */
  private async reprotect(report: MaintenanceReport): Promise<MaintenanceReport> {
    const before = { ...this.lockstep.record()!, lastResync: undefined };
    this.lockstep.pairs.set(before);
    const { seen, stepMs } = await this.watched(before.guestAddress, () => this.lockstep.reprotect());
    const after = this.lockstep.record()!;
    const copied = after.lastResync;
    report.resyncBytes += copied?.bytes ?? 0;
    if (copied)
      report.notes.push(
        `Re-protect ${copied.how === 'drbd' ? 'resynced with DRBD (only what changed)' : 'copied the whole disk'}: ${(copied.bytes / 2 ** 20).toFixed(1)} MiB in ${copied.seconds.toFixed(1)} s.`,
      );
    report.gaps.push({ what: 'reprotect', at: Date.now(), from: this.name(after.primary), to: this.name(after.primary), stepMs, ...seen });
    this.save(report);
    return report;
  }
}
