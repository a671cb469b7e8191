import { z } from 'zod';
import type { VmFiles } from '../hosts/vm-layout.js';
import type { InitKind } from './remote-agent.js';

/** What the store remembers about the deployed agents (kv key `agent`). The secret is not here: it is a 0600 file in the app's home. */
export interface AgentRecord {
  state: 'deploying' | 'deployed' | 'stopped';
  cluster: string;
  timeoutMs: number;
  /** the pair (PairRecord.since) the agents were configured for: roles and VMs change after a failover */
  pairSince: number;
  hosts: AgentHostRecord[];
  witness: { kind: 'local'; listen: string; netns?: string } | { kind: 'external'; address: string };
  deployedAt?: number;
  stoppedAt?: number;
}

export interface AgentHostRecord {
  /** host identity address:port */
  host: string;
  name: string;
  role: 'primary' | 'secondary';
  how: InitKind;
  /** its address on the public network (heartbeats), as the app's SSH connection reached it */
  publicIp: string;
  /** the witness as this host reaches it */
  witness: string;
  crossover: string;
  vmFiles: VmFiles;
  replNode?: string;
}

export const AGENT_KEY = 'agent';

export interface DeployParams {
  primary: string;
  secondary: string;
}

const agentHostSchema: z.ZodType<AgentHostRecord> = z.object({
  host: z.string().min(1),
  name: z.string(),
  role: z.enum(['primary', 'secondary']),
  how: z.enum(['systemd', 'direct']),
  publicIp: z.string(),
  witness: z.string(),
  crossover: z.string(),
  vmFiles: z.enum(['primary', 'secondary']),
  replNode: z.string().optional(),
});

/** The agents' record as the store must hold it (validated on every read: store/record-repo.ts). */
export const agentRecordSchema: z.ZodType<AgentRecord> = z.object({
  state: z.enum(['deploying', 'deployed', 'stopped']),
  cluster: z.string(),
  timeoutMs: z.number(),
  pairSince: z.number(),
  hosts: z.array(agentHostSchema),
  witness: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('local'), listen: z.string(), netns: z.string().optional() }),
    z.object({ kind: z.literal('external'), address: z.string() }),
  ]),
  deployedAt: z.number().optional(),
  stoppedAt: z.number().optional(),
});
