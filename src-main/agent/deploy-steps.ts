/** The steps of `agent deploy` (probe → apply → verify each): the witness, the files, the agents, armed. */
import { createHash } from 'node:crypto';
import { LockstepError } from '../contract/index.js';
import type { AgentHostStatus } from '../contract/agent.js';
import type { SshSession } from '../hosts/ssh-session.js';
import type { Step } from '../tasks/step.js';
import { AGENT_PATHS } from './agent-config.js';
import type { AgentHostRecord, AgentRecord, DeployParams } from './agent-record.js';
import { agentHostStatus } from './agent-status.js';
import {
  agentAnswers,
  agentStatusJson,
  checkConfig,
  holdAgent,
  installBinary,
  localSha256,
  markStarted,
  remoteShas,
  startAgent,
  startedWith,
  stopAgent,
  writeRemoteFile,
} from './remote-agent.js';
import { startLocalWitness, witnessStatusJson } from './witness.js';

/**
 * What the deploy steps read: the agents' record, a session to each host, the config and secret
 * they install, the binaries, the witness's folder. Steps get this, not the service (AgentService hands it over).
 */
export interface AgentDeployContext {
  requireRecord(): AgentRecord;
  session(h: AgentHostRecord): Promise<SshSession>;
  /** the config text for one host of the record */
  configFor(r: AgentRecord, h: AgentHostRecord): string;
  /** the pair's shared secret (a 0600 file in the app's home) */
  secret(): string;
  /** the static lockstep-agent and colo-failover on this machine */
  bins: { agent: string; failover: string };
  /** home/agent: the witness's key, pid, socket and log */
  dir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

export function deploySteps(ctx: AgentDeployContext): Step<DeployParams>[] {
  const rec = () => ctx.requireRecord();
  const files = (r: AgentRecord, h: AgentHostRecord) => {
    const config = ctx.configFor(r, h);
    return { config, configSha: sha(config), keySha: sha(ctx.secret()), mark: sha(`${config}\n${localSha256(ctx.bins.agent)}`) };
  };
  // both hosts at once (each SSH round trip is slow on a loaded host)
  const both = async <T>(fn: (s: SshSession, h: AgentHostRecord, r: AgentRecord) => Promise<T>): Promise<T[]> => {
    const r = rec();
    return Promise.all(r.hosts.map(async (h) => fn(await ctx.session(h), h, r)));
  };
  const witnessUp = async (): Promise<boolean> => {
    const r = rec();
    if (r.witness.kind !== 'local') return true;
    const j = await witnessStatusJson(ctx.bins.agent, ctx.dir, r.cluster);
    return j?.mode === 'witness' && j.cluster === r.cluster && j.listen === r.witness.listen;
  };
  const armed = async (): Promise<AgentHostStatus[]> =>
    both(async (s, h) => agentHostStatus({ host: h.host, name: h.name, role: h.role, how: h.how }, await agentStatusJson(s), []));
  return [
    {
      id: 'witness',
      title: 'Start the witness (the third vote) on this machine',
      probe: witnessUp,
      apply: async () => {
        const r = rec();
        if (r.witness.kind !== 'local') return;
        await startLocalWitness({ bin: ctx.bins.agent, dir: ctx.dir, cluster: r.cluster, listen: r.witness.listen, netns: r.witness.netns }, ctx.secret());
      },
      verify: async () => {
        if (!(await witnessUp())) throw new LockstepError({ code: 'witness-not-serving', message: 'The witness does not answer on its status socket.' });
      },
    },
    {
      id: 'install',
      title: 'Upload lockstep-agent and colo-failover; write each host’s config and the pair’s secret',
      probe: async () =>
        (
          await both(async (s, h, r) => {
            const f = files(r, h);
            const have = await remoteShas(s, [AGENT_PATHS.agent, AGENT_PATHS.failover, AGENT_PATHS.key, AGENT_PATHS.config]);
            return (
              have.get(AGENT_PATHS.agent) === localSha256(ctx.bins.agent) &&
              have.get(AGENT_PATHS.failover) === localSha256(ctx.bins.failover) &&
              have.get(AGENT_PATHS.key) === f.keySha &&
              have.get(AGENT_PATHS.config) === f.configSha
            );
          })
        ).every(Boolean),
      apply: async () => {
        await both(async (s, h, r) => {
          const f = files(r, h);
          const have = await remoteShas(s, [AGENT_PATHS.agent, AGENT_PATHS.failover, AGENT_PATHS.key, AGENT_PATHS.config]);
          await installBinary(s, ctx.bins.agent, AGENT_PATHS.agent, have.get(AGENT_PATHS.agent) ?? '');
          await installBinary(s, ctx.bins.failover, AGENT_PATHS.failover, have.get(AGENT_PATHS.failover) ?? '');
          if (have.get(AGENT_PATHS.key) !== f.keySha) await writeRemoteFile(s, AGENT_PATHS.key, ctx.secret(), '0600');
          if (have.get(AGENT_PATHS.config) !== f.configSha) await writeRemoteFile(s, AGENT_PATHS.config, f.config, '0644');
        });
      },
      verify: async () => {
        await both(async (s) => checkConfig(s));
      },
    },
    {
      id: 'start',
      title: 'Start the agents (systemd where it runs the host, else a supervisor started over SSH)',
      // running the config and binary deploy wrote, and not held (held agents never re-arm: a restart does)
      probe: async () =>
        (
          await both(async (s, h, r) => {
            const j = await agentStatusJson(s);
            return j?.mode === 'peer' && j.held !== true && (await startedWith(s)) === files(r, h).mark;
          })
        ).every(Boolean),
      apply: async () => {
        // never one agent quiet while the other is armed: hold both, then restart both
        await both(async (s) => holdAgent(s).catch(() => false));
        await both(async (s, h) => stopAgent(s, h.how));
        await both(async (s, h, r) => {
          await startAgent(s, h.how);
          await markStarted(s, files(r, h).mark);
        });
      },
      verify: async () => {
        if (!(await both(async (s) => agentAnswers(s))).every(Boolean))
          throw new LockstepError({ code: 'agent-not-running', message: 'An agent stopped right after it started.', fix: 'lockstep agent status' });
      },
    },
    {
      id: 'armed',
      title: 'Wait until both agents hear each other on both paths and arm',
      probe: async () => (await armed()).every((h) => h.armed),
      apply: async ({ signal }) => {
        const until = Date.now() + 20_000;
        while (Date.now() < until && !signal.aborted) {
          if ((await armed()).every((h) => h.armed)) return;
          await sleep(250);
        }
      },
      verify: async () => {
        const st = await armed();
        if (!st.every((h) => h.armed))
          throw new LockstepError({
            code: 'agent-not-armed',
            message: `The agents did not arm: ${st.map((h) => `${h.name} ${h.state}${h.reason ? ` (${h.reason})` : ''}`).join('; ')}.`,
            fix: 'Both VMs must run in lockstep and the hosts must reach each other on the crossover and the public network (UDP 7788) and the witness (UDP 7790): lockstep agent status',
          });
      },
    },
  ];
}
