/**
 * The core joins lockstep and the host agents, neither importing the other's tools: the agents get
 * the pair as they declare it (agent/agent-pair.ts), lockstep gets the agents as it declares them
 * (lockstep/host-agents.ts).
 */
import type { AgentActions } from '../agent/agent-actions.js';
import type { AgentPair } from '../agent/agent-pair.js';
import type { HostAgents } from '../lockstep/host-agents.js';
import { vmFiles, type PairRecord } from '../lockstep/pair-record.js';

/** Pure: what the agents need of lockstep's record. */
export function agentPair(r: PairRecord): AgentPair {
  return {
    state: r.state === 'lockstep' || r.state === 'failed-over' ? r.state : 'other',
    since: r.since,
    primary: r.primary,
    secondary: r.secondary,
    xa: r.xa,
    xb: r.xb,
    vmFiles: { primary: vmFiles(r, 'primary'), secondary: vmFiles(r, 'secondary') },
    ...(r.replNode !== undefined ? { replNode: r.replNode } : {}),
  };
}

/** The agents' actions as lockstep and drills ask for them, each pair record handed over as the agents' view of it. */
export function hostAgents(a: AgentActions): HostAgents {
  return {
    notArmed: (pair) => a.notArmed(agentPair(pair)),
    ensureArmed: (pair) => a.ensureArmed(agentPair(pair)),
    waitAction: (hostRef, sinceMs, limitMs) => a.waitAction(hostRef, sinceMs, limitMs),
    lastActions: () => a.lastActions(),
    hold: () => a.hold(),
    removeFrom: (hostRefs) => a.removeFrom(hostRefs),
    runFailover: (side, r) => a.runFailover(side, agentPair(r)),
  };
}
