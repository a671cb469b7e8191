/**
 * `lockstep unprotect` for whichever tier protects the guest: a lockstep pair is given back by the
 * unprotect service; the Mirror tier (the guest run by Pacemaker) by removing the cluster
 * configuration the app made while the guest keeps running where it runs (`cluster remove
 * --keep-guest`). Both ask for --confirm first, naming what they stop and remove.
 */
import { LockstepError, type PairStatus } from '../contract/index.js';
import type { Core } from './core.js';

export async function unprotectAny(core: Core, i: { confirm?: string }): Promise<PairStatus> {
  const cluster = core.cluster.stored();
  if (core.lockstep.record() || !cluster?.guest) return core.unprotect.unprotect(i);
  const fix = `lockstep lockstep unprotect --confirm ${cluster.clusterName}`;
  if (i.confirm !== cluster.clusterName)
    throw new LockstepError({
      code: 'confirm-needed',
      message: `The guest is protected by the Mirror tier (Pacemaker cluster ${cluster.clusterName}). ${await core.cluster.removeQuestion(cluster, true)}`,
      fix,
    });
  const before = await core.cluster.status().catch(() => null);
  const node = before?.state === 'running' ? before.guest?.node : null;
  await core.cluster.remove({ confirm: cluster.clusterName, keepGuest: true });
  return {
    state: 'unprotected',
    why: `Unprotected: the Mirror tier's cluster is removed; the guest ${cluster.guest.name} keeps running${node ? ` on ${node}` : ''} as a plain VM (nobody restarts it now), DRBD keeps its roles.`,
  };
}
