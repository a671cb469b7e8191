import { randomBytes } from 'node:crypto';
import type { EventBus } from '../events/event-bus.js';
import { LockstepError, type Level } from '../contract/index.js';
import type { ClusterStatusDTO } from '../contract/cluster.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { Side } from '../hosts/command.js';
import { bothSides, err, HostPair, SIDES } from '../hosts/pair-exec.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';
import * as cmd from './cluster-commands.js';
import { CLUSTER_KEY, CLUSTER_NAME, type ClusterSetupParams, type ClusterStored, type GuestForCluster, type MirrorForCluster } from './cluster-record.js';
import { DEFAULT_TOKEN_MS } from './corosync-conf.js';
import { parseCrmMon, runningOn } from './crm-mon.js';
import { ids } from './crm-config.js';
import { removeKind, removeWords, type RemoveContext } from './remove-steps.js';
import { assertNodeAddress, hasCapitals, nodeNameOf } from './names.js';
import { crmText, setupKind } from './setup-steps.js';

export interface ClusterDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  /** the mirror under the cluster, through the core */
  mirror: MirrorForCluster;
  /** the guest it may run (the demo guest), through the core */
  guests: GuestForCluster;
}

/** The Mirror tier's cluster: Pacemaker + Corosync on the mirrored pair (wires src-main/cluster/* to SSH). */
export class ClusterService implements RemoveContext {
  readonly mirror: MirrorForCluster;
  readonly guests: GuestForCluster;

  constructor(readonly deps: ClusterDeps) {
    this.mirror = deps.mirror;
    this.guests = deps.guests;
    deps.runner.register(setupKind(this));
    deps.runner.register(removeKind(this));
  }

  forget(): void {
    this.deps.store.kv.delete(CLUSTER_KEY);
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

  async setup(i: { tokenMs?: number; witness?: string; guest?: 'demo' }): Promise<ClusterStatusDTO> {
    const m = this.mirror.mirror();
    if (!m)
      throw err('cluster-no-mirror', 'There is no complete DRBD mirror to put under Pacemaker.', {
        fix: 'lockstep mirror setup   (then lockstep cluster setup)',
      });
    const pair = this.pair(m.hosts);
    const old = this.stored();
    if (old?.removing)
      throw err('cluster-removing', `The cluster's removal has not finished (${old.removing.left.map((s) => old.nodes[s]).join(', ')} still to clean).`, {
        fix: `lockstep cluster remove --confirm ${old.clusterName}   (then set it up again)`,
      });
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
      // a guest once given stays (a rerun without --guest keeps running it)
      guest: i.guest ? await this.guests.define(m.hosts, m.device) : (old?.guest ?? null),
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
      const mon = parseCrmMon(r.stdout);
      const g = rec.guest;
      return {
        state: 'running',
        clusterName: rec.clusterName,
        readFrom: pair.name(s),
        mon,
        explanations: crmText(rec).explanations,
        witness: rec.witness ? `${rec.witness.address}:${rec.witness.port}` : null,
        guest: g ? { name: g.name, address: g.address, node: runningOn(mon, ids(rec.drbdResource, g.name).vm!) } : null,
      };
    }
    return { state: 'down', clusterName: rec.clusterName, why: why.join('; '), fix: 'lockstep cluster setup   (starts Corosync and Pacemaker again)' };
  }

  /** Stops and removes what setup made; refuses unless `confirm` names the cluster (the error names what stops, and what of the guest). */
  async remove(i: { confirm?: string; keepGuest?: boolean }): Promise<ClusterStatusDTO> {
    const rec = this.stored();
    if (!rec) return { state: 'none' };
    const keepGuest = i.keepGuest === true;
    if (i.confirm !== rec.clusterName) {
      const now = rec.guest ? await this.status().catch(() => null) : null;
      throw err('confirm-needed', removeWords(rec, keepGuest, now?.state === 'running' ? (now.guest?.node ?? null) : null), {
        fix: `lockstep cluster remove --confirm ${rec.clusterName}${keepGuest ? ' --keep-guest' : ''}`,
      });
    }
    const plan = await this.deps.runner.run('cluster.remove', { hosts: rec.hosts, keepGuest });
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
}
