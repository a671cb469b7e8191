/** DTOs of the host agent (native/agent: lockstep-agent + colo-failover) and its witness. */

/** What an agent's status JSON says, plus what the app saw on the host. */
export interface AgentHostStatus {
  /** host identity address:port */
  host: string;
  name: string;
  role: 'primary' | 'secondary';
  /** how it was started on this host */
  how: 'systemd' | 'direct';
  /**
   * The agent's state (decide.c's names: protected, public-lost, suspect, waiting, degraded,
   * partitioned, isolated, acting, took-over, alone, action-failed, split-brain), or what stands
   * in for it: not-running (the host answers, its agent does not) or unreachable (no SSH).
   */
  state: string;
  /** may act (protected, public-lost, suspect) */
  armed: boolean;
  reason: string;
  /** the local VM (vm_pidfile): up, down, or null when not watched */
  vm: 'up' | 'down' | null;
  /** ms since the peer's last authentic heartbeat per path (null = never) */
  peer: { crossoverMs: number | null; publicMs: number | null };
  witness: { address: string; reachable: boolean; rttMs: number | null; peerAgeMs: number | null } | null;
  /** the last action (failover / continue-alone / degraded), if any */
  action: {
    last: string | null;
    running: boolean;
    rc: number | null;
    durationMs: number | null;
    /** ms since the epoch (the host's clock) */
    startedAt: number | null;
    finishedAt: number | null;
  };
  decisions: { at: string; from: string; to: string; action: string; reason: string }[];
  /** the last lines of the agent's log on the host (decisions, actions, colo-failover's steps) */
  log: string[];
  error?: string;
}

export interface WitnessStatus {
  /** local: run by this app on this machine; host: on an added host over SSH */
  kind: 'local' | 'host';
  /** where the agents send their pings */
  address: string;
  state: 'serving' | 'not-running' | 'unreachable';
  /** ms since the witness last heard each role (null = never) */
  heard: { primary: number | null; secondary: number | null } | null;
  host?: string;
  pid?: number;
  error?: string;
}

export type AgentStatus =
  | { state: 'not-deployed'; why: string }
  | {
      state: 'deployed';
      cluster: string;
      deployedAt: number;
      /** the heartbeat timeout the agents decide with */
      timeoutMs: number;
      /** one sentence: armed on both, or what is missing */
      summary: string;
      hosts: AgentHostStatus[];
      witness: WitnessStatus;
    }
  | { state: 'stopped'; cluster: string; stoppedAt: number };
