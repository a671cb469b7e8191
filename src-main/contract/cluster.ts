/** The Mirror tier's cluster (Pacemaker + Corosync) as the doors see it. */

export interface ClusterNodeDTO {
  name: string;
  id: string;
  online: boolean;
  standby: boolean;
  /** Pacemaker could not confirm the node's state (it would be fenced) */
  unclean: boolean;
  /** still joining */
  pending: boolean;
  isDc: boolean;
  resourcesRunning: number;
}

export interface ClusterResourceDTO {
  id: string;
  /** e.g. ocf:linbit:drbd */
  agent: string;
  /** Started | Stopped | Promoted | Unpromoted | Starting | Stopping | … (Pacemaker's words; Master/Slave read as Promoted/Unpromoted) */
  role: string;
  active: boolean;
  failed: boolean;
  managed: boolean;
  /** the nodes it runs on (a clone instance: one) */
  nodes: string[];
  /** the clone or group it belongs to */
  parent?: string;
}

export interface ClusterFailureDTO {
  resource: string;
  /** monitor | start | stop | promote | … */
  task: string;
  node: string;
  exitCode: number;
  /** Pacemaker's reading of the exit code, e.g. "not running" */
  exitStatus: string;
  exitReason: string;
  /** when, as Pacemaker printed it (ISO-like text) */
  at: string;
}

export interface ClusterMonDTO {
  /** the Designated Controller, null while none is elected */
  dc: { name: string; id: string } | null;
  quorate: boolean;
  pacemakerVersion: string | null;
  stonithEnabled: boolean | null;
  nodes: ClusterNodeDTO[];
  resources: ClusterResourceDTO[];
  failures: ClusterFailureDTO[];
}

export interface ClusterExplanationDTO {
  id: string;
  kind: string;
  text: string;
}

export type ClusterStatusDTO =
  | { state: 'none' }
  | {
      state: 'running';
      clusterName: string;
      /** the host whose crm_mon this is */
      readFrom: string;
      mon: ClusterMonDTO;
      /** what the app configured, and why (each constraint explained) */
      explanations: ClusterExplanationDTO[];
      witness: string | null;
      /** a witness this app runs (cluster setup --witness local): is its corosync-qnetd running */
      witnessLocal?: { running: boolean };
      /** the guest Pacemaker runs (cluster setup --guest), and the node it runs on now (null: stopped) */
      guest: { name: string; address: string; node: string | null } | null;
    }
  | { state: 'down'; clusterName: string; why: string; fix: string };
