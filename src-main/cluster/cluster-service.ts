import { randomBytes } from 'node:crypto';
import type { EventBus } from '../events/event-bus.js';
import { LockstepError, type Level } from '../contract/index.js';
import type { ClusterStatusDTO } from '../contract/cluster.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { Side } from '../hosts/command.js';
import { bothSides, err, HostPair, SIDES } from '../hosts/pair-exec.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';
import type { PlanKind } from '../tasks/step.js';
import * as cmd from './cluster-commands.js';
import { CLUSTER_KEY, CLUSTER_NAME, type ClusterContext, type ClusterSetupParams, type ClusterStored, type MirrorForCluster } from './cluster-record.js';
import { DEFAULT_TOKEN_MS } from './corosync-conf.js';
import { parseCrmMon } from './crm-mon.js';
import { assertNodeAddress, hasCapitals, nodeNameOf } from './names.js';
import { crmText, setupKind } from './setup-steps.js';

export interface ClusterDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  /** the mirror under the cluster, through the core */
  mirror: MirrorForCluster;
}

/** The Mirror tier's cluster: Pacemaker + Corosync on the mirrored pair (wires src-main/cluster/* to SSH). */
export class ClusterService implements ClusterContext {
  readonly mirror: MirrorForCluster;

  constructor(readonly deps: ClusterDeps) {
    this.mirror = deps.mirror;
    deps.runner.register(setupKind(this));
    deps.runner.register(this.removeKind());
  }

  stored(): ClusterStored | undefined {
    return this.deps.store.kv.get<ClusterStored>(CLUSTER_KEY);
  }

  patch(f: (r: ClusterStored) => void): ClusterStored {
    const r = this.stored()!;
    f(r);
    this.deps.store.kv.set(CLUSTER_KEY, r);
    return r;
  }

  pair(hosts: Record<Side, string>): HostPair {
    return new HostPair(this.deps.hosts, hosts);
  }

  log(level: Level, message: string, extra?: { host?: string; data?: Record<string, unknown> }): void {
    this.deps.bus.log(level, 'cluster', message, extra);
  }

  /** Pacemaker runs the mirror (what the mirror's own switch asks before it changes roles by hand). */
  configured(): boolean {
    return this.stored() !== undefined;
  }

  // ── commands ────────────────────────────────────────────────────────────────────────

  async setup(i: { tokenMs?: number; witness?: string }): Promise<ClusterStatusDTO> {
    const m = this.mirror.mirror();
    if (!m)
      throw err('cluster-no-mirror', 'There is no complete DRBD mirror to put under Pacemaker.', {
        fix: 'lockstep mirror setup   (then lockstep cluster setup)',
      });
    const pair = this.pair(m.hosts);
    const old = this.stored();
    if (old && (old.hosts.A !== m.hosts.A || old.hosts.B !== m.hosts.B))
      throw err('cluster-other-hosts', `A cluster already runs on ${old.nodes.A} and ${old.nodes.B}, not the mirror's hosts.`, {
        fix: `lockstep cluster remove --confirm ${old.clusterName}`,
      });
    const publicAddresses = { A: pair.hosts.A.address, B: pair.hosts.B.address };
    for (const s of SIDES)
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(publicAddresses[s]))
        throw err('cluster-address-not-ip', `${pair.name(s)} was added by name (${publicAddresses[s]}); Corosync needs its IPv4 address.`, {
          fix: `lockstep hosts add IP_OF_${pair.name(s)}   (add it by address)`,
        });
    publicAddresses.A = assertNodeAddress(publicAddresses.A, 'public address');
    publicAddresses.B = assertNodeAddress(publicAddresses.B, 'public address');
    const unames = await bothSides(async (s) => m.unames[s] ?? (await pair.check(s, ['uname', '-n'], { step: 'cluster-setup' })).trim());
    const witness = i.witness !== undefined ? { address: assertNodeAddress(i.witness, 'witness address'), port: 5403 } : (old?.witness ?? null);
    const rec: ClusterStored = {
      version: 1,
      clusterName: CLUSTER_NAME,
      hosts: m.hosts,
      nodes: { A: nodeNameOf(unames[0]), B: nodeNameOf(unames[1]) },
      publicAddresses,
      crossAddresses: m.crossAddresses,
      drbdResource: m.resource,
      tokenMs: i.tokenMs ?? old?.tokenMs ?? DEFAULT_TOKEN_MS,
      witness,
      // the one secret of the cluster: made once, the same on every node
      authkey: old?.authkey ?? randomBytes(256).toString('base64'),
      starter: old?.starter ?? {},
      complete: old?.complete ?? false,
      ...(old?.setupSeconds !== undefined ? { setupSeconds: old.setupSeconds } : {}),
    };
    this.deps.store.kv.set(CLUSTER_KEY, rec);
    for (const s of SIDES)
      if (hasCapitals(rec.nodes[s]))
        this.log(
          'warn',
          `${pair.name(s)} is called ${rec.nodes[s]} (uname -n): Pacemaker warns about capitals in node names; the node keeps that name because DRBD's crm-fence-peer names nodes by uname -n.`,
        );
    const started = Date.now();
    const params: ClusterSetupParams = { hosts: m.hosts, tokenMs: rec.tokenMs, witness };
    const plan = await this.deps.runner.resumeOrRun('cluster.setup', params);
    if (plan.state !== 'done')
      throw new LockstepError(plan.error ?? { code: 'cluster-setup-failed', message: 'The cluster setup did not finish.', fix: 'lockstep cluster setup' });
    if (!old?.complete) this.patch((r) => (r.setupSeconds = (Date.now() - started) / 1000));
    return this.status();
  }

  /** crm_mon as Pacemaker reports it, read over our own SSH from the first host that answers. */
  async status(): Promise<ClusterStatusDTO> {
    const rec = this.stored();
    if (!rec) return { state: 'none' };
    const pair = this.pair(rec.hosts);
    const why: string[] = [];
    for (const s of SIDES) {
      if (!(await pair.reachable(s))) {
        why.push(`${pair.name(s)} does not answer SSH`);
        continue;
      }
      const r = await pair.exec(s, cmd.crmMon());
      if (r.code !== 0) {
        why.push(`${pair.name(s)}: crm_mon exit ${r.code} (${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''})`);
        continue;
      }
      return {
        state: 'running',
        clusterName: rec.clusterName,
        readFrom: pair.name(s),
        mon: parseCrmMon(r.stdout),
        explanations: crmText(rec).explanations,
        witness: rec.witness ? `${rec.witness.address}:${rec.witness.port}` : null,
      };
    }
    return { state: 'down', clusterName: rec.clusterName, why: why.join('; '), fix: 'lockstep cluster setup   (starts Corosync and Pacemaker again)' };
  }

  /** Stops and removes what setup made; refuses unless `confirm` names the cluster (the error names what stops). */
  async remove(i: { confirm?: string }): Promise<ClusterStatusDTO> {
    const rec = this.stored();
    if (!rec) return { state: 'none' };
    const c = crmText(rec);
    if (i.confirm !== rec.clusterName)
      throw err(
        'confirm-needed',
        `This stops Pacemaker and Corosync on ${rec.nodes.A} and ${rec.nodes.B}, deletes ${[...c.resourceIds, ...c.constraintIds].join(', ')} and the cluster's CIB, ` +
          `removes ${cmd.COROSYNC_CONF} and ${cmd.AUTHKEY} and DRBD's cluster fencing. DRBD ${rec.drbdResource} stays up, its roles as they are.`,
        { fix: `lockstep cluster remove --confirm ${rec.clusterName}` },
      );
    const plan = await this.deps.runner.run('cluster.remove', { hosts: rec.hosts });
    if (plan.state !== 'done')
      throw new LockstepError(
        plan.error ?? {
          code: 'cluster-remove-failed',
          message: 'The cluster was not removed completely.',
          fix: `lockstep cluster remove --confirm ${rec.clusterName}`,
        },
      );
    return { state: 'none' };
  }

  private removeKind(): PlanKind<{ hosts: Record<Side, string> }> {
    const rec = () => this.stored();
    return {
      kind: 'cluster.remove',
      retry: { codes: ['ssh-dropped'], attempts: 3 },
      title: () => 'Remove the cluster (Pacemaker + Corosync) the app made',
      steps: () => [
        {
          id: 'cluster-unmanage',
          title: 'Delete the app’s resources and constraints from the CIB (stops the VM where one runs)',
          probe: async () => rec() === undefined,
          apply: async (ctx) => {
            const r = rec()!;
            const pair = this.pair(ctx.params.hosts);
            const c = crmText(r);
            // DRBD stays up where it is: the agent's stop would demote and take it down, so the
            // clone is unmanaged before it is deleted (a guest resource is stopped first)
            const guests = c.resourceIds.filter((id) => id.startsWith('p_vm_'));
            for (const s of SIDES) {
              if (!(await pair.reachable(s))) continue;
              if ((await pair.exec(s, cmd.daemonsRunning())).stdout.includes('pacemakerd')) {
                if (guests.length) await pair.exec(s, cmd.crmDelete(guests));
                await pair.exec(s, ['crm', 'configure', 'property', 'maintenance-mode=true']);
                await pair.exec(s, [
                  'sh',
                  '-c',
                  'for id in "$@"; do crm configure delete --force "$id" >/dev/null 2>&1; done; true',
                  'sh',
                  ...c.constraintIds,
                  ...c.resourceIds.filter((x) => !guests.includes(x)),
                ]);
                ctx.log(`${pair.name(s)}: deleted ${[...c.resourceIds, ...c.constraintIds].join(', ')} (DRBD left running)`);
                break;
              }
            }
          },
          verify: async () => {},
        },
        {
          id: 'cluster-stop',
          title: 'Stop Pacemaker and Corosync on both hosts; remove their files and DRBD’s cluster fencing',
          probe: async () => rec() === undefined,
          apply: async (ctx) => {
            const r = rec()!;
            const pair = this.pair(ctx.params.hosts);
            await bothSides(async (s) => {
              if (!(await pair.reachable(s)))
                return ctx.log(`${pair.name(s)} does not answer: its cluster files stay until it is back (lockstep cluster remove again)`, 'warn');
              await pair.check(s, cmd.stopDaemons(r.starter[s] ?? 'direct'), { step: 'cluster-stop', timeoutMs: 150_000 });
              await pair.check(s, cmd.removeFiles(), { step: 'cluster-stop' });
            });
            await this.mirror.setClusterFencing(false);
            this.deps.store.kv.delete(CLUSTER_KEY);
            this.log('info', `Cluster ${r.clusterName} removed from ${r.nodes.A} and ${r.nodes.B}; DRBD ${r.drbdResource} keeps running`);
          },
          verify: async () => {},
        },
      ],
    };
  }
}
