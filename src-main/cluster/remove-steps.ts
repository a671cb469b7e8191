/**
 * The steps of `cluster remove` (probe → apply → verify each), run by the task runner for
 * ClusterService. Idempotent: a host that did not answer keeps the record (with the hosts still to
 * clean), so the same command run again finishes there; a second run on a clean pair finds
 * nothing to do.
 */
import type { Side } from '../hosts/command.js';
import { err, pollUntil, SIDES, type HostPair } from '../hosts/pair-exec.js';
import type { PlanKind, Step } from '../tasks/step.js';
import * as cmd from './cluster-commands.js';
import type { ClusterContext, ClusterStored } from './cluster-record.js';
import { runningOn } from './crm-mon.js';
import { monOf } from './mon-read.js';
import { crmText } from './setup-steps.js';

export interface ClusterRemoveParams {
  hosts: Record<Side, string>;
  /** leave the guest running where it runs (unmanaged), instead of stopping it */
  keepGuest: boolean;
}

export interface RemoveContext extends ClusterContext {
  /** forgets the cluster (its record) once every host is clean */
  forget(): void;
}

/**
 * How long a host gets to send its SSH banner before the removal counts it as off: a loaded host
 * (a TCG guest, DRBD's fence-peer handler polling the CIB after a split) took more than the usual
 * 2 s in the lab (2026-12-08), and a host wrongly counted as off keeps the removal open.
 */
const PATIENT_REACH_MS = 10_000;

/** The host whose pacemakerd answers (the CIB is changed there), or null. */
async function pacemakerSide(pair: HostPair): Promise<Side | null> {
  for (const s of SIDES) if ((await pair.reachable(s, PATIENT_REACH_MS)) && (await pair.exec(s, cmd.daemonsRunning())).stdout.includes('pacemakerd')) return s;
  return null;
}

/** 1. The app's ids out of the CIB: the guest stopped first (or left running: --keep-guest), DRBD left as it runs. */
function unmanageStep(svc: RemoveContext): Step<ClusterRemoveParams> {
  return {
    id: 'cluster-unmanage',
    title: 'Delete the app’s resources and constraints from the CIB (the guest stopped, or left running with --keep-guest)',
    probe: async (ctx) => {
      const r = svc.stored();
      return r === undefined || r.removing !== undefined || (await pacemakerSide(svc.pair(ctx.params.hosts))) === null;
    },
    apply: async (ctx) => {
      const r = svc.stored()!;
      const pair = svc.pair(ctx.params.hosts);
      const c = crmText(r);
      const s = (await pacemakerSide(pair))!;
      const vm = c.resourceIds.filter((id) => id.startsWith('p_vm_'));
      if (vm.length && !ctx.params.keepGuest) {
        // stopped by Pacemaker (its agent: TERM, then KILL within the stop timeout), and only then deleted
        await pair.exec(s, cmd.crmStop(vm));
        const stopped = await pollUntil(
          async () => {
            const m = await monOf(pair, s);
            return m && vm.every((id) => runningOn(m, id) === null) ? true : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 1000, signal: ctx.signal },
        );
        if (!stopped)
          throw err('cluster-guest-did-not-stop', `Pacemaker did not stop ${vm.join(', ')} within 2 minutes.`, {
            fix: `crm_mon -1 on ${pair.name(s)} shows why; then: lockstep cluster remove --confirm ${r.clusterName}`,
            step: 'cluster-unmanage',
          });
        ctx.log(`${vm.join(', ')} stopped by Pacemaker`);
      }
      // DRBD (and a kept guest) stay where they run: nothing is managed any more, then the ids go
      await pair.check(s, cmd.maintenanceOn(), { step: 'cluster-unmanage' });
      await pair.check(s, cmd.crmDeleteOnly([...c.constraintIds, ...c.resourceIds]), { step: 'cluster-unmanage' });
      ctx.log(
        `${pair.name(s)}: deleted ${[...c.resourceIds, ...c.constraintIds].join(', ')} (DRBD${ctx.params.keepGuest && vm.length ? ' and the guest' : ''} left running)`,
      );
    },
    verify: async () => {},
  };
}

/** 2. Daemons stopped and files removed on every host that answers; DRBD's cluster fencing out once both are clean. */
function stopStep(svc: RemoveContext): Step<ClusterRemoveParams> {
  return {
    id: 'cluster-stop',
    title: 'Stop Pacemaker and Corosync on both hosts; remove their files and DRBD’s cluster fencing',
    probe: async () => svc.stored() === undefined,
    apply: async (ctx) => {
      const r: ClusterStored = svc.stored()!;
      const pair = svc.pair(ctx.params.hosts);
      const todo = r.removing?.left ?? [...SIDES];
      const left: Side[] = [];
      await Promise.all(
        todo.map(async (s) => {
          if (!(await pair.reachable(s, PATIENT_REACH_MS))) return void left.push(s);
          await pair.check(s, cmd.stopDaemons(r.starter[s] ?? 'direct'), { step: 'cluster-stop', timeoutMs: 150_000 });
          await pair.check(s, cmd.removeFiles(ctx.params.keepGuest ? 'keep' : 'remove'), { step: 'cluster-stop' });
          ctx.log(`${pair.name(s)}: Pacemaker and Corosync stopped; corosync.conf, authkey, the OCF agent and the guests' argument files removed`);
        }),
      );
      if (left.length) {
        svc.patch((x) => (x.removing = { left }));
        throw err('cluster-remove-incomplete', `${left.map((s) => pair.name(s)).join(' and ')} did not answer: the cluster's files stay there.`, {
          fix: `Power ${left.map((s) => pair.name(s)).join(' and ')} on, then: lockstep cluster remove --confirm ${r.clusterName}`,
          step: 'cluster-stop',
        });
      }
      await svc.mirror.setClusterFencing(false);
      svc.forget();
      svc.log('info', `Cluster ${r.clusterName} removed from ${r.nodes.A} and ${r.nodes.B}; DRBD ${r.drbdResource} keeps running`);
    },
    verify: async () => {},
  };
}

export function removeKind(svc: RemoveContext): PlanKind<ClusterRemoveParams> {
  return {
    kind: 'cluster.remove',
    retry: { codes: ['ssh-dropped'], attempts: 3 },
    title: () => 'Remove the cluster (Pacemaker + Corosync) the app made',
    steps: () => [unmanageStep(svc), stopStep(svc)],
  };
}

/** Pure: what `cluster remove` will do, in the words of its confirmation. */
export function removeWords(r: ClusterStored, keepGuest: boolean, guestOn: string | null): string {
  const c = crmText(r);
  const g = r.guest;
  const guest = !g
    ? ''
    : keepGuest
      ? ` The guest ${g.name} (${g.address}) is left running${guestOn ? ` on ${guestOn}` : ''}, no longer restarted by anyone.`
      : ` It stops the guest ${g.name} (${g.address}${guestOn ? `, running on ${guestOn}` : ''}); --keep-guest leaves it running instead.`;
  return (
    `This stops Pacemaker and Corosync${r.witness ? ' (and the quorum device)' : ''} on ${r.nodes.A} and ${r.nodes.B}${r.witness?.local ? `, stops the witness this app runs (corosync-qnetd on ${r.witness.address})` : ''}, deletes ${[...c.resourceIds, ...c.constraintIds].join(', ')} and the cluster's CIB, ` +
    `removes ${cmd.COROSYNC_CONF}, ${cmd.AUTHKEY}, the OCF agent and DRBD's cluster fencing. DRBD ${r.drbdResource} stays up, its roles as they are.${guest}`
  );
}
