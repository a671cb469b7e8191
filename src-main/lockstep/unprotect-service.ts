/**
 * `lockstep unprotect --confirm HOST` (issue 21): the VM is given back as one plain VM on the host
 * where it runs now. In order, each step convergent so that a rerun finishes what an unreachable
 * host left open: the host agents held; in lockstep, the kept side's colo-failover (the primary
 * continues alone: replication child, filters and colo-compare removed, COLO mode none — the same
 * sequence as continue-alone); the other host's QEMU stopped and the pair's files and tap there
 * removed; the agents taken off both hosts; the pair's record deleted. Plan and words: unprotect-plan.ts.
 */
import { z } from 'zod';
import { LockstepError, type PairStatus } from '../contract/index.js';
import { HOST_PATHS, vmPaths } from '../hosts/vm-layout.js';
import { pidOf } from '../hosts/vm-process.js';
import { RecordRepo } from '../store/record-repo.js';
import { stopGuestVms } from './host-ops.js';
import { flowBaselines } from './serving-check.js';
import type { LockstepService } from './lockstep-service.js';
import { unprotectConfirm, unprotectPlan, unprotectWords, type UnprotectPlan } from './unprotect-plan.js';

/** What the app remembers after an unprotect (kv key `pair-released`): where the VM was left, for `lockstep status`. */
export interface ReleasedNote {
  host: string;
  name: string;
  at: number;
}
export const RELEASED_KEY = 'pair-released';
export const releasedSchema: z.ZodType<ReleasedNote> = z.object({ host: z.string(), name: z.string(), at: z.number() });

export class UnprotectService {
  private readonly released: RecordRepo<ReleasedNote>;

  constructor(private readonly lockstep: LockstepService) {
    this.released = new RecordRepo(lockstep.deps.store.kv, RELEASED_KEY, releasedSchema, { redo: 'lockstep lockstep status', overwrites: true });
  }

  private get deps() {
    return this.lockstep.deps;
  }

  private readonly name = (ref: string): string => this.deps.hosts.resolve(ref).name;

  async unprotect(i: { confirm?: string }): Promise<PairStatus> {
    // a failover the host agents did without the app is recorded first: the VM is where it runs now
    if (this.lockstep.record()) await this.lockstep.status();
    const r = this.lockstep.record();
    const plan = unprotectPlan(r, this.name);
    if (!r || !plan) {
      const note = this.released.get();
      return {
        state: 'unprotected',
        why: `Nothing to unprotect: no pair is protected${note ? ` (the VM was given back on ${note.name} at ${new Date(note.at).toISOString()})` : ''}.`,
      };
    }
    const confirm = unprotectConfirm(plan, this.name);
    if (i.confirm !== confirm)
      throw new LockstepError({
        code: 'confirm-needed',
        message: `${i.confirm === undefined ? '' : `--confirm ${JSON.stringify(i.confirm.slice(0, 64))} does not name ${confirm}. `}${unprotectWords(r, plan, this.name)}`,
        fix: `lockstep lockstep unprotect --confirm ${confirm}`,
      });
    await this.keptVmAlive(plan);
    const log = (m: string) => this.deps.bus.log('info', 'lockstep', m);
    // the agents must not take the secondary going away for a lost host
    await this.lockstep.agents?.hold().catch(() => undefined);
    if (plan.failover) {
      const ms = await this.lockstep.continueAlone(r);
      log(`Unprotect: ${this.name(plan.keep.host)} left COLO (colo-failover ${ms} ms); the guest keeps serving there`);
    }
    const left: string[] = [];
    const s = await this.deps.hosts.session(plan.clean).catch(() => null);
    if (s) {
      await stopGuestVms(this.deps.hosts, [plan.clean]);
      await s.check(['rm', '-rf', '--', ...plan.files]);
      if ((await s.exec(['ip', 'link', 'show', 'dev', HOST_PATHS.tap])).code === 0) await s.exec(['ip', 'link', 'del', 'dev', HOST_PATHS.tap]);
      log(`Unprotect: the pair's VM, disk copy and files removed from ${this.name(plan.clean)}`);
    } else left.push(this.name(plan.clean));
    const agentsLeft = (await this.lockstep.agents?.removeFrom([plan.keep.host, plan.clean])) ?? [];
    left.push(...agentsLeft.filter((n) => !left.includes(n)));
    if (left.length)
      throw new LockstepError({
        code: 'unprotect-incomplete',
        message: `${left.join(' and ')} did not answer: the pair's files${agentsLeft.length ? ' and host agent' : ''} stay there. The guest runs alone on ${this.name(plan.keep.host)}.`,
        fix: `When ${left.join(' and ')} answer${left.length > 1 ? '' : 's'} again: lockstep lockstep unprotect --confirm ${unprotectConfirm(plan, this.name)}`,
      });
    // the pair is forgotten: its record and the status watchdog's baseline
    this.lockstep.pairs.delete();
    flowBaselines(this.deps.store.kv).delete();
    this.released.set({ host: plan.keep.host, name: this.name(plan.keep.host), at: Date.now() });
    log(`Unprotected: the VM runs as one plain VM on ${this.name(plan.keep.host)}; nothing of the pair is left on ${this.name(plan.clean)}`);
    return this.status();
  }

  /** The pair's status, or after an unprotect where the VM was given back. */
  async status(): Promise<PairStatus> {
    const st = await this.lockstep.status();
    const note = this.released.get();
    if (st.state !== 'unprotected' || this.lockstep.record() || !note) return st;
    return { state: 'unprotected', why: `Unprotected: the VM runs as a plain VM on ${note.name} (given back ${new Date(note.at).toISOString()}).` };
  }

  /** The VM to give back must run: a host that does not answer, or a VM gone, changes nothing. */
  private async keptVmAlive(p: UnprotectPlan): Promise<void> {
    const where = this.name(p.keep.host);
    const s = await this.deps.hosts.session(p.keep.host).catch(() => null);
    const alive = s ? (await pidOf(s, vmPaths(HOST_PATHS.run, p.keep.vmFiles).pid).catch(() => null)) !== null : false;
    if (!alive)
      throw new LockstepError({
        code: s ? 'unprotect-vm-gone' : 'unprotect-host-unreachable',
        message: s
          ? `The VM does not run on ${where}: there is nothing to give back there.`
          : `${where}, where the VM runs, does not answer: nothing was changed.`,
        fix: s ? 'lockstep lockstep status (says where the guest last ran)' : `Bring ${where} back, then run unprotect again`,
      });
  }
}
