import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { InitKind } from './remote-agent.js';
import type { EventBus } from '../events/event-bus.js';
import type { AgentHostStatus, AgentStatus, WitnessStatus } from '../contract/agent.js';
import { LockstepError } from '../contract/index.js';
import type { HostDTO } from '../contract/hosts.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { SshSession } from '../hosts/ssh-session.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';
import type { Environment } from '../hosts/environment.js';
import { AGENT_PATHS, WITNESS_PORT, clusterId, parseHostPort, renderAgentConfig, secretText } from './agent-config.js';
import { RecordRepo } from '../store/record-repo.js';
import type { AgentPair } from './agent-pair.js';
import { AGENT_KEY, agentRecordSchema, type AgentHostRecord, type AgentRecord, type DeployParams } from './agent-record.js';
import { agentHostStatus, summarize, witnessHeard } from './agent-status.js';
import { deploySteps } from './deploy-steps.js';
import { agentAnswers, agentLogTail, agentStatusJson, connectionAddresses, holdAgent, initKind, STARTED_MARK, stopAgent } from './remote-agent.js';
import { secretFile, stopLocalWitness, witnessPid, witnessStatusJson } from './witness.js';

export interface AgentDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  lab: Environment;
  /** what the agents need of the COLO pair (the core reads it from lockstep's record) */
  pair(): AgentPair | undefined;
  /** dist/native/agent: the static lockstep-agent and colo-failover */
  binDir: string;
  /** the app's home: the witness's key, pid, socket and log live in home/agent */
  home: string;
}

/** The host agents of the COLO pair and their witness: deploy over SSH, status, stop. */
export class AgentService {
  /** the agents' record: owned here, validated on every read */
  private readonly records: RecordRepo<AgentRecord>;

  constructor(readonly deps: AgentDeps) {
    this.records = new RecordRepo(deps.store.kv, AGENT_KEY, agentRecordSchema, { redo: 'lockstep agent deploy' });
    deps.runner.register<DeployParams>({
      kind: 'agent.deploy',
      title: (p) => `Deploy the host agents on ${p.primary} (primary) + ${p.secondary} (secondary) and their witness`,
      steps: () =>
        deploySteps({
          requireRecord: () => this.requireRecord(),
          session: (h) => this.sessionOf(h),
          configFor: (r, h) => this.configFor(r, h),
          secret: () => this.secret(),
          bins: this.bins,
          dir: this.dir,
        }),
    });
  }

  private get dir(): string {
    return join(this.deps.home, 'agent');
  }

  private get bins(): { agent: string; failover: string } {
    return { agent: join(this.deps.binDir, 'lockstep-agent'), failover: join(this.deps.binDir, 'colo-failover') };
  }

  record(): AgentRecord | undefined {
    return this.records.get();
  }

  private save(r: AgentRecord): void {
    this.records.set(r);
  }

  private secret(): string {
    const f = secretFile(this.dir);
    if (!existsSync(f)) throw new LockstepError({ code: 'agent-no-secret', message: 'The agents’ secret is missing.', fix: 'lockstep agent deploy' });
    return readFileSync(f, 'utf8');
  }

  private requireRecord(): AgentRecord {
    const r = this.record();
    if (!r) throw new LockstepError({ code: 'agent-not-deployed', message: 'The host agents are not deployed.', fix: 'lockstep agent deploy' });
    return r;
  }

  /** The config text for one host of the record. */
  configFor(r: AgentRecord, h: AgentHostRecord): string {
    const peer = r.hosts.find((x) => x.host !== h.host)!;
    return renderAgentConfig({
      role: h.role,
      cluster: r.cluster,
      crossoverLocal: h.crossover,
      crossoverPeer: peer.crossover,
      publicLocal: h.publicIp,
      publicPeer: peer.publicIp,
      witness: h.witness,
      vmFiles: h.vmFiles,
      replNode: h.replNode,
      timeoutMs: r.timeoutMs,
    });
  }

  async deploy(i: { witness: string; timeoutMs: number }): Promise<AgentStatus> {
    for (const f of Object.values(this.bins))
      if (!existsSync(f))
        throw new LockstepError({ code: 'agent-not-built', message: `The host agent is not built (${f} is missing).`, fix: 'npm run build:native' });
    const pair = this.deps.pair();
    if (!pair || pair.state !== 'lockstep')
      throw new LockstepError({
        code: 'not-in-lockstep',
        message:
          pair?.state === 'failed-over'
            ? 'The guest runs alone after a failover: re-protect it, then deploy the agents for the new roles.'
            : 'The agents guard a pair in lockstep: protect the guest first.',
        fix: pair?.state === 'failed-over' ? 'lockstep lockstep reprotect && lockstep agent deploy' : 'lockstep lockstep protect HOST_A HOST_B',
      });
    const a = this.deps.hosts.resolve(pair.primary);
    const b = this.deps.hosts.resolve(pair.secondary);
    const facts = async (h: HostDTO) => {
      const s = await this.deps.hosts.session(h);
      return { ...(await connectionAddresses(s)), init: await initKind(s) };
    };
    const [ca, cb] = await Promise.all([facts(a), facts(b)]);
    const [ia, ib] = [ca.init, cb.init];

    let witness: AgentRecord['witness'];
    let wa: string;
    let wb: string;
    if (i.witness === 'local') {
      const lab = await this.deps.lab.status();
      const inLab = lab.state === 'up' && [a, b].every((h) => lab.hosts.some((x) => x.address === h.address && x.port === h.port));
      if (lab.state === 'up' && inLab) {
        // the desktop's place on the lab's public switch: its client namespace (ends with `lab down`)
        wa = wb = `${lab.clientAddress}:${WITNESS_PORT}`;
        witness = { kind: 'local', listen: wa, netns: lab.clientNetns };
      } else {
        wa = `${ca.desktop}:${WITNESS_PORT}`;
        wb = `${cb.desktop}:${WITNESS_PORT}`;
        witness = { kind: 'local', listen: ca.desktop === cb.desktop ? wa : `0.0.0.0:${WITNESS_PORT}` };
      }
    } else {
      const w = parseHostPort(i.witness);
      if (!w) throw new LockstepError({ code: 'bad-witness', message: `The witness must be "local" or IPv4:port, not ${JSON.stringify(i.witness)}.` });
      wa = wb = `${w.address}:${w.port}`;
      witness = { kind: 'external', address: wa };
    }

    const prev = this.record();
    const keyFile = secretFile(this.dir);
    const same = prev && prev.state !== 'stopped' && prev.hosts[0]?.host === a.hostId && prev.hosts[1]?.host === b.hostId && existsSync(keyFile);
    const cluster = same ? prev.cluster : clusterId(randomBytes(6));
    // agents of an earlier deployment (other hosts, or these with other roles after a failover): stopped first, disarmed
    if (prev && prev.state !== 'stopped' && !same) await this.stop().catch(() => undefined);
    if (!same) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(keyFile, secretText(randomBytes(32)), { mode: 0o600 });
    }
    const host = (h: HostDTO, role: 'primary' | 'secondary', how: typeof ia, publicIp: string, w: string): AgentHostRecord => ({
      host: h.hostId,
      name: h.name,
      role,
      how,
      publicIp,
      witness: w,
      crossover: role === 'primary' ? pair.xa : pair.xb,
      vmFiles: pair.vmFiles[role],
      ...(role === 'primary' ? { replNode: pair.replNode ?? 'replication0' } : {}),
    });
    const rec: AgentRecord = {
      state: 'deploying',
      cluster,
      timeoutMs: i.timeoutMs,
      pairSince: pair.since,
      hosts: [host(a, 'primary', ia, ca.host, wa), host(b, 'secondary', ib, cb.host, wb)],
      witness,
      deployedAt: prev?.deployedAt,
    };
    // every value reaches a file only through the validating renderer: refuse before touching a host
    for (const h of rec.hosts) this.configFor(rec, h);
    this.save(rec);
    const plan = await this.deps.runner.run<DeployParams>('agent.deploy', { primary: a.hostId, secondary: b.hostId });
    if (plan.state !== 'done') throw new LockstepError(plan.error ?? { code: 'agent-deploy-failed', message: 'The agents were not deployed.' });
    this.save({ ...this.record()!, state: 'deployed', deployedAt: Date.now() });
    this.deps.bus.log(
      'info',
      'agent',
      `Host agents armed on ${a.name} (primary) + ${b.name} (secondary), witness ${wa}${wb !== wa ? ` / ${wb}` : ''}: a lost host now fails over without the app`,
    );
    if (witness.kind === 'external')
      this.deps.bus.log(
        'info',
        'agent',
        `The witness at ${witness.address} must run: lockstep-agent --witness-serve ${witness.address} --cluster-id ${cluster} --secret-file FILE (FILE = a copy of ${keyFile})`,
      );
    return this.status();
  }

  private sessionOf(h: AgentHostRecord): Promise<SshSession> {
    return this.deps.hosts.session(h.host);
  }

  async status(): Promise<AgentStatus> {
    const r = this.record();
    if (!r) return { state: 'not-deployed', why: 'The host agents have not been deployed.' };
    if (r.state === 'stopped') return { state: 'stopped', cluster: r.cluster, stoppedAt: r.stoppedAt ?? 0 };
    const hosts: AgentHostStatus[] = await Promise.all(
      r.hosts.map(async (h) => {
        const meta = { host: h.host, name: h.name, role: h.role, how: h.how };
        const s = await this.sessionOf(h).catch(() => null);
        if (!s) return { ...agentHostStatus(meta, null, []), state: 'unreachable', error: `${h.name} does not answer SSH` };
        const [json, log] = await Promise.all([agentStatusJson(s).catch((e: Error) => e), agentLogTail(s, 30).catch(() => [])]);
        if (json instanceof Error) return { ...agentHostStatus(meta, null, log), state: 'unreachable', error: json.message };
        return agentHostStatus(meta, json, log);
      }),
    );
    let witness: WitnessStatus;
    if (r.witness.kind === 'local') {
      const j = await witnessStatusJson(this.bins.agent, this.dir, r.cluster).catch(() => null);
      witness = { kind: 'local', address: r.witness.listen, ...witnessHeard(j), pid: witnessPid(this.dir, r.cluster) ?? undefined };
    } else {
      const seen = hosts.some((h) => h.witness?.reachable);
      witness = { kind: 'host', address: r.witness.address, state: seen ? 'serving' : 'unreachable', heard: null };
    }
    return {
      state: 'deployed',
      cluster: r.cluster,
      deployedAt: r.deployedAt ?? 0,
      timeoutMs: r.timeoutMs,
      summary: r.state === 'deploying' ? 'Deploying (or an interrupted deploy: run it again).' : summarize(hosts, witness),
      hosts,
      witness,
    };
  }

  /**
   * Disarms both agents until they are restarted (best effort, never throws): before the app stops
   * the VMs, so that one VM going away is not taken for a lost host.
   */
  async holdAll(): Promise<void> {
    const r = this.record();
    if (!r || r.state === 'stopped') return;
    await Promise.all(
      r.hosts.map(async (h) => {
        const s = await this.sessionOf(h).catch(() => null);
        if (s) await holdAgent(s).catch(() => false);
      }),
    );
  }

  /**
   * Takes the agents off these hosts and the record's (`lockstep unprotect`): each stopped (held
   * first), its config, key, unit, binaries and log deleted; the local witness stopped, the secret
   * and the record forgotten. Returns the names of hosts that did not answer (their agent and files
   * stay: the record is kept, stopped, so that a rerun finishes the job).
   */
  async removeFrom(hostRefs: string[]): Promise<string[]> {
    const r = this.record();
    await this.holdAll();
    const hosts = new Map<string, InitKind | null>(hostRefs.map((h) => [this.deps.hosts.resolve(h).hostId, null]));
    for (const h of r?.hosts ?? []) hosts.set(h.host, h.how);
    const left: string[] = [];
    for (const [ref, known] of hosts) {
      const name = this.deps.hosts.resolve(ref).name;
      const s = await this.deps.hosts.session(ref).catch(() => null);
      if (!s) {
        left.push(name);
        continue;
      }
      const how = known ?? (await initKind(s));
      await stopAgent(s, how);
      await s.exec(['rm', '-rf', AGENT_PATHS.dir]);
      await s.exec(['rm', '-f', AGENT_PATHS.config, AGENT_PATHS.key, AGENT_PATHS.unit, AGENT_PATHS.pid, AGENT_PATHS.socket, STARTED_MARK]);
      if (how === 'systemd') await s.exec(['systemctl', 'daemon-reload']);
      if (await agentAnswers(s).catch(() => true)) left.push(name);
    }
    if (r && r.state !== 'stopped' && r.witness.kind === 'local') await stopLocalWitness(this.dir, r.cluster);
    rmSync(secretFile(this.dir), { force: true });
    if (left.length) {
      if (r) this.save({ ...r, state: 'stopped', stoppedAt: r.stoppedAt ?? Date.now() });
      return left;
    }
    this.records.delete();
    if (r) this.deps.bus.log('info', 'agent', `Host agents removed from ${r.hosts.map((h) => h.name).join(' and ')}, the witness stopped`);
    return [];
  }

  /** Stops both agents (held first, so neither acts on the other going quiet) and the local witness; removes the secret. */
  async stop(): Promise<AgentStatus> {
    const r = this.record();
    if (!r) return this.status();
    await this.holdAll();
    const failed: string[] = [];
    for (const h of r.hosts) {
      const s = await this.sessionOf(h).catch(() => null);
      if (!s) {
        failed.push(`${h.name} (unreachable)`);
        continue;
      }
      await stopAgent(s, h.how);
      await s.exec(['rm', '-f', AGENT_PATHS.key, '/run/lockstep/agent.started']);
      if (await agentAnswers(s).catch(() => true)) failed.push(h.name);
    }
    if (r.witness.kind === 'local') await stopLocalWitness(this.dir, r.cluster);
    rmSync(secretFile(this.dir), { force: true });
    this.save({ ...r, state: 'stopped', stoppedAt: Date.now() });
    if (failed.length)
      throw new LockstepError({
        code: 'agent-stop-incomplete',
        message: `The agent still runs on ${failed.join(', ')}.`,
        fix: `On the host: kill "$(cat ${AGENT_PATHS.pid})" (or systemctl disable --now ${AGENT_PATHS.unitName}), then lockstep agent stop`,
      });
    this.deps.bus.log('info', 'agent', 'Host agents and the witness stopped: nothing fails over automatically now');
    return this.status();
  }
}
