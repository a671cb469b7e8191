/**
 * What the host agents need to know of the COLO pair. Declared here, filled in by the core from
 * lockstep's record (app/agent-pair.ts), the way lockstep declares its disk layer: the agent
 * never imports lockstep's tools.
 */
import type { VmFiles } from '../hosts/vm-layout.js';

export interface AgentPair {
  /** the agents guard a pair in 'lockstep' only; 'failed-over': the guest runs alone until a re-protect */
  state: 'lockstep' | 'failed-over' | 'other';
  /** the pair's lockstep generation: the agents are configured for one (roles and VMs change after a failover) */
  since: number;
  /** host identities (address:port) in their CURRENT roles */
  primary: string;
  secondary: string;
  /** crossover addresses of the primary and the secondary */
  xa: string;
  xb: string;
  /** the QEMU file set the VM in each role uses now */
  vmFiles: Record<'primary' | 'secondary', VmFiles>;
  /** the primary's replication node (replicationN), when the pair has named one */
  replNode?: string;
}
