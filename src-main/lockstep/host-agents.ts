import type { DrillAgentAct } from '../contract/lockstep.js';
import type { PairRecord } from './pair-record.js';

/**
 * What lockstep and drills ask of the host agents; the core hands it over (agent/agent-actions.ts).
 * There is one failover sequence, the agents' colo-failover: the app runs it only through here.
 */
export interface HostAgents {
  /** null when both agents are armed for this pair, else why not (a sentence) */
  notArmed(pair: PairRecord): Promise<string | null>;
  /** deploys the agents when they are not armed for this pair (the drill's first step) */
  ensureArmed(pair: PairRecord): Promise<'already' | 'deployed'>;
  /** waits until the agent on hostRef has finished an action started at or after sinceMs (null after limitMs) */
  waitAction(hostRef: string, sinceMs: number, limitMs: number): Promise<DrillAgentAct | null>;
  /** each agent's last action */
  lastActions(): Promise<DrillAgentAct[]>;
  /** disarms both agents until they are restarted */
  hold(): Promise<void>;
  /** takes the agents, their config, unit, key and binaries off these hosts and forgets them (unprotect); returns the names of hosts that did not answer */
  removeFrom(hostRefs: string[]): Promise<string[]>;
  /** the host's colo-failover over SSH: `secondary` takes over, `primary` continues alone */
  runFailover(side: 'primary' | 'secondary', r: PairRecord): Promise<{ ms: number; log: string[] }>;
}
