import { randomBytes } from 'node:crypto';
import type { EventBus } from '../events/event-bus.js';
import { LockstepError, type Level } from '../contract/index.js';
import type { ClusterStatusDTO } from '../contract/cluster.js';
import type { Environment } from '../hosts/environment.js';
import type { HostsService } from '../hosts/hosts-service.js';
import { join } from 'node:path';
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
import { QNETD_PORT } from './corosync-conf.js';
import { qnetdPid, startLocalQnetd, stopLocalQnetd } from './qnetd.js';

export interface ClusterDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  /** the mirror under the cluster, through the core */
  mirror: MirrorForCluster;
  /** the guest it may run (the demo guest), through the core */
  guests: GuestForCluster;
  /** the virtual lab (where a local witness runs in the lab's client namespace) */
  lab: Environment;
  /** the app's home: a local witness's pid, socket and log live in home/cluster */
  home: string;
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

  private get qnetdDir(): string {
    return join(this.deps.home, 'cluster');
  }

  /**
   * `--witness local`: corosync-qnetd run by this app — in the lab's client namespace when both
   * hosts are lab hosts, else on this machine at the address host A's SSH session came from.
   * `--witness IP`: a qnetd the user runs elsewhere (port 5403).
   */
  private async witnessOf(w: string, pair: HostPair): Promise<NonNullable<ClusterStored['witness']>> {
    if (w !== 'local') return { address: assertNodeAddress(w, 'witness address'), port: QNETD_PORT };
    const lab = await this.deps.lab.status();
    const inLab = lab.state === 'up' && SIDES.every((s) => lab.hosts.some((x) => x.address === pair.hosts[s].address && x.port === pair.hosts[s].port));
    if (lab.state === 'up' && inLab) return { address: lab.clientAddress, port: QNETD_PORT, local: { netns: lab.clientNetns } };
    const conn = (await pair.check('A', ['printenv', 'SSH_CONNECTION'], { step: 'cluster-witness' })).trim().split(/\s+/)[0] ?? '';
    return { address: assertNodeAddress(conn, 'this machine’s address as host A sees it'), port: QNETD_PORT, local: {} };
  }

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
    const witness = i.witness !== undefined ? await this.witnessOf(i.witness, pair) : (old?.witness ?? null);
    // the witness first: qdevice on the hosts connects to it as soon as corosync.conf names it
    if (witness?.local) {
      const pid = await startLocalQnetd({ dir: this.qnetdDir, address: witness.address, port: witness.port, netns: witness.local.netns });
      this.log(
        'info',
        `The cluster's witness (corosync-qnetd, pid ${pid}) listens on ${witness.address}:${witness.port}${witness.local.netns ? ` in ${witness.local.netns}` : ''}`,
      );
    } else if (old?.witness?.local) await stopLocalQnetd(this.qnetdDir);
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
    const params: ClusterSetupParams = { hosts: m.hosts, tokenMs: rec.tokenMs, witness: witness ? { address: witness.address, port: witness.port } : null };
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
        ...(rec.witness?.local ? { witnessLocal: { running: qnetdPid(this.qnetdDir) !== null } } : {}),
        guest: g ? { name: g.name, address: g.address, node: runningOn(mon, ids(rec.drbdResource, g.name).vm!) } : null,
      };
    }
    return { state: 'down', clusterName: rec.clusterName, why: why.join('; '), fix: 'lockstep cluster setup   (starts Corosync and Pacemaker again)' };
  }

  /** What a removal stops, deletes and leaves (where the guest runs now, read from crm_mon): the words asked before it runs. */
  async removeQuestion(rec: ClusterStored, keepGuest: boolean): Promise<string> {
    const now = rec.guest ? await this.status().catch(() => null) : null;
    return removeWords(rec, keepGuest, now?.state === 'running' ? (now.guest?.node ?? null) : null);
  }

  /** Stops and removes what setup made; refuses unless `confirm` names the cluster (the error names what stops, and what of the guest). */
  async remove(i: { confirm?: string; keepGuest?: boolean }): Promise<ClusterStatusDTO> {
    const rec = this.stored();
    if (!rec) return { state: 'none' };
    const keepGuest = i.keepGuest === true;
    if (i.confirm !== rec.clusterName)
      throw err('confirm-needed', await this.removeQuestion(rec, keepGuest), {
        fix: `lockstep cluster remove --confirm ${rec.clusterName}${keepGuest ? ' --keep-guest' : ''}`,
      });
    const plan = await this.deps.runner.run('cluster.remove', { hosts: rec.hosts, keepGuest });
    // the local witness goes once no host needs it (a removal left open keeps it for the rerun)
    if (plan.state === 'done' && rec.witness?.local) await stopLocalQnetd(this.qnetdDir);
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
