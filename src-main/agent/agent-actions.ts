/**
 * What the lockstep capability asks of the host agents (through the core, never importing this
 * folder): are both armed, wait for one to act, what each did, and the one failover sequence
 * (colo-failover) run by hand on a host.
 */
import { join } from 'node:path';
import type { AgentHostStatus } from '../contract/agent.js';
import { LockstepError } from '../contract/index.js';
import type { DrillAgentAct } from '../contract/lockstep.js';
import { AGENT_DEFAULTS } from './agent-config.js';
import type { AgentPair } from './agent-pair.js';
import type { AgentService } from './agent-service.js';
import type { AgentHostRecord } from './agent-record.js';
import { agentHostStatus } from './agent-status.js';
import { runHostFailover, type HostFailoverResult } from './host-failover.js';
import { agentStatusJson, holdAgent } from './remote-agent.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pure: one agent's status → what it did (for the drill report and the event history). */
export function actOf(h: AgentHostStatus): DrillAgentAct {
  const decision = [...h.decisions].reverse().find((d) => d.action && d.action !== 'none');
  return {
    host: h.host,
    name: h.name,
    role: h.role,
    action: h.action.last,
    rc: h.action.rc,
    state: h.state,
    reason: decision?.reason ?? h.reason,
    startedAt: h.action.startedAt,
    finishedAt: h.action.finishedAt,
  };
}

export class AgentActions {
  constructor(private readonly agent: AgentService) {}

  private hosts(): AgentHostRecord[] {
    const r = this.agent.record();
    return r && r.state !== 'stopped' ? r.hosts : [];
  }

  private async statusOf(h: AgentHostRecord): Promise<AgentHostStatus> {
    const meta = { host: h.host, name: h.name, role: h.role, how: h.how };
    const s = await this.agent.deps.hosts.session(h.host).catch(() => null);
    if (!s) return { ...agentHostStatus(meta, null, []), state: 'unreachable' };
    return agentHostStatus(meta, await agentStatusJson(s).catch(() => null), []);
  }

  /** null when both agents are armed for this pair, else why not (a sentence). */
  async notArmed(pair: AgentPair): Promise<string | null> {
    const r = this.agent.record();
    if (!r || r.state !== 'deployed') return 'The host agents are not deployed.';
    if (r.pairSince !== pair.since) return 'The host agents were deployed for an earlier lockstep generation of this pair.';
    const st = await Promise.all(this.hosts().map((h) => this.statusOf(h)));
    const off = st.filter((h) => !h.armed);
    return off.length ? `Not armed: ${off.map((h) => `${h.name} ${h.state}${h.reason ? ` (${h.reason})` : ''}`).join('; ')}.` : null;
  }

  /**
   * Makes sure both agents are armed for this pair: deploys them (or again, for a new lockstep
   * generation) when not, with the witness of an earlier deployment or the local one.
   */
  async ensureArmed(pair: AgentPair): Promise<'already' | 'deployed'> {
    if (!(await this.notArmed(pair))) return 'already';
    const prev = this.agent.record();
    const witness = prev && prev.state !== 'stopped' && prev.witness.kind === 'external' ? prev.witness.address : 'local';
    await this.agent.deploy({ witness, timeoutMs: prev?.timeoutMs ?? AGENT_DEFAULTS.timeoutMs });
    const why = await this.notArmed(pair);
    if (why) throw new LockstepError({ code: 'agent-not-armed', message: why, fix: 'lockstep agent status' });
    return 'deployed';
  }

  /** Waits until the agent on hostRef has finished an action it started at or after sinceMs (null after limitMs). */
  async waitAction(hostRef: string, sinceMs: number, limitMs: number): Promise<DrillAgentAct | null> {
    const h = this.hosts().find((x) => x.host === hostRef);
    if (!h) return null;
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      const st = await this.statusOf(h);
      const a = st.action;
      if (a.last && !a.running && a.finishedAt !== null && (a.startedAt ?? 0) >= sinceMs - 1000) return actOf(st);
      await sleep(100);
    }
    return null;
  }

  /** Each agent's last action (an unreachable host reads as such). */
  async lastActions(): Promise<DrillAgentAct[]> {
    return Promise.all(this.hosts().map(async (h) => actOf(await this.statusOf(h))));
  }

  /** Disarms both agents until they are restarted (before a manual failover: they would race it). */
  async hold(): Promise<void> {
    await Promise.all(
      this.hosts().map(async (h) => {
        const s = await this.agent.deps.hosts.session(h.host).catch(() => null);
        if (s) await holdAgent(s).catch(() => false);
      }),
    );
  }

  /** Takes the agents and their files off these hosts (unprotect); the names of hosts that did not answer. */
  removeFrom(hostRefs: string[]): Promise<string[]> {
    return this.agent.removeFrom(hostRefs);
  }

  /** The host's colo-failover over SSH: the same sequence the agents run. */
  async runFailover(side: 'primary' | 'secondary', r: AgentPair): Promise<HostFailoverResult> {
    const ref = side === 'primary' ? r.primary : r.secondary;
    const s = await this.agent.deps.hosts.session(ref);
    return runHostFailover(s, join(this.agent.deps.binDir, 'colo-failover'), side, r, this.agent.deps.hosts.resolve(ref).name);
  }
}
