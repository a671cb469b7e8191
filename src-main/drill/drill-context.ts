/** What a drill may read and do, handed over by the core: drills see the pair through this, never lockstep's tools. */
import type { DrillAgentAct, PairStatus } from '../contract/lockstep.js';
import type { LinkStatus } from '../contract/link.js';
import type { EventBus } from '../events/event-bus.js';
import type { Environment } from '../hosts/environment.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { SshSession } from '../hosts/ssh-session.js';

export type VmRole = 'primary' | 'secondary';

/** The protected pair as a drill sees it: its hosts, its guest, its VMs' files, and what a drill changes of it. */
export interface DrillPair {
  /** host identities (address:port) in their current roles */
  primary: string;
  secondary: string;
  guestAddress: string;
  /** a user VM's TCP port the meter watches (absent: the demo guest's counter) */
  guestPort?: number;
  /** the pid file and QMP socket of the VM in a role right now (after a failover the survivor runs the secondary's files) */
  vm(role: VmRole): { pid: string; qmp: string };
  /** arms the host agents for this pair, deploying them when they are not (a drill measures the path that runs at 3 am) */
  armAgents(): Promise<'already' | 'deployed'>;
  /** remembers the pair as the acting agent left it: the secondary took over, or the primary continues alone */
  failedOver(how: 'secondary-took-over' | 'primary-alone', at: number): void;
}

/** What drills ask of the host agents. */
export interface DrillAgents {
  /** waits until the agent on hostRef has finished an action started at or after sinceMs (null after limitMs) */
  waitAction(hostRef: string, sinceMs: number, limitMs: number): Promise<DrillAgentAct | null>;
  /** each agent's last action */
  lastActions(): Promise<DrillAgentAct[]>;
}

export interface DrillContext {
  hosts: Pick<HostsService, 'session' | 'resolve'>;
  bus: Pick<EventBus, 'log'>;
  /** the environment: the lab powers hosts off and cuts cables; real hosts are the plain case */
  lab: Environment;
  /** the replication link's status (the crossover NIC to cut) */
  link?: { status(): Promise<LinkStatus> };
  /** the built app (dist/): the meter's script */
  distDir: string;
  /** the pair's status as lockstep observes it */
  status(): Promise<PairStatus>;
  /** the pair as recorded now; undefined when there is none */
  pair(): DrillPair | undefined;
  /** undefined: the core handed no host agent tools */
  agents?: DrillAgents;
  /** the pid files of every VM a host may run (to count the guest VMs after a drill) */
  vmPidFiles: string[];
  /** the pid a pid file names, when that process runs */
  pidOf(s: SshSession, pidFile: string): Promise<number | null>;
  /** stops the QEMU a pid file names (SIGTERM, then SIGKILL after graceMs) */
  killVm(s: SshSession, pidFile: string, graceMs: number): Promise<unknown>;
}
