/**
 * Pure: the Pacemaker configuration of the Mirror tier, as a crm shell script
 * (`crm configure load update FILE`), and the explanation of every piece of it, for the app to
 * show beside the cluster. Ids are derived from validated names only.
 *
 * Shape (per DRBD resource = per protected VM):
 *   p_drbd_R   ocf:linbit:drbd, cloned promotable (one Promoted, one Unpromoted)
 *   p_vm_V     the guest (ocf:lockstep:guest, installed by the app), only where a VM is given
 *   col_V      the guest runs where R is promoted
 *   ord_V      R is promoted before the guest starts (and the guest stops before R is demoted)
 */
import { LockstepError } from '../contract/errors.js';
import { assertHostPath, assertIntIn, assertResourceId } from './names.js';
import { assertNodeName } from './names.js';

export interface GuestSpec {
  /** the VM's name, a resource id once prefixed */
  name: string;
  /** the guest's argument file on both hosts (see guest-agent.ts) */
  argsFile: string;
}

export interface MirrorResourceSpec {
  /** the DRBD resource name (r0) */
  drbdResource: string;
  /** the VM on it, when the app defined one */
  guest?: GuestSpec | null;
  /** where the VM runs when both hosts are up (a preference, not a requirement) */
  preferredNode?: string | null;
}

export interface CrmSpec {
  resources: readonly MirrorResourceSpec[];
  /** a fencing device is configured (IPMI/Redfish, the lab's power switch): stonith-enabled=true */
  fencing?: boolean;
  /** how much a resource prefers to stay where it runs (stops it moving back when a host returns) */
  stickiness?: number;
}

export interface Explanation {
  id: string;
  kind: 'property' | 'primitive' | 'clone' | 'colocation' | 'order' | 'location' | 'drbd';
  text: string;
}

export interface CrmConfig {
  script: string;
  explanations: Explanation[];
  /** every resource id the script makes (what `cluster remove` stops and deletes) */
  resourceIds: string[];
  constraintIds: string[];
}

export const ids = (drbd: string, guest?: string) => ({
  drbd: `p_drbd_${drbd}`,
  clone: `ms_drbd_${drbd}`,
  ...(guest ? { vm: `p_vm_${guest}`, col: `col_vm_${guest}`, ord: `ord_vm_${guest}`, loc: `loc_vm_${guest}` } : {}),
});

function bad(message: string, fix: string): LockstepError {
  return new LockstepError({ code: 'bad-cluster-spec', message, fix, step: 'cluster-config' });
}

export function renderCrmConfig(spec: CrmSpec): CrmConfig {
  if (!Array.isArray(spec?.resources) || spec.resources.length === 0)
    throw bad('No DRBD resource to put under Pacemaker.', 'Set up the mirror first: lockstep mirror setup');
  const stickiness = assertIntIn(spec.stickiness ?? 100, 0, 1_000_000, 'stickiness', 'Use 0–1000000; 100 keeps a resource where it runs.');
  const fencing = spec.fencing === true;
  const L: string[] = ['# Lockstep Lab: the Mirror tier. Generated; `lockstep cluster setup` loads it again.'];
  const ex: Explanation[] = [];
  const resourceIds: string[] = [];
  const constraintIds: string[] = [];
  L.push(
    `property cib-bootstrap-options: stonith-enabled=${fencing} no-quorum-policy=stop cluster-recheck-interval=60s`,
    `rsc_defaults rsc-options: resource-stickiness=${stickiness} migration-threshold=3 failure-timeout=120s`,
  );
  ex.push({
    id: 'cib-bootstrap-options',
    kind: 'property',
    text: fencing
      ? 'Fencing is on: a node that stops answering is powered off by the fencing device before its resources start elsewhere. A partition without quorum stops its resources.'
      : 'No fencing device: Pacemaker cannot power off a lost node, so DRBD’s resource-level fencing (below) is what keeps a cut-off host from being promoted. A partition without quorum stops its resources.',
  });
  ex.push({
    id: 'rsc-options',
    kind: 'property',
    text: `Resources stay where they run (stickiness ${stickiness}): a host that returns does not pull its VM back. After 3 failures on a host a resource moves away; failures are forgotten after 2 minutes.`,
  });
  const seen = new Set<string>();
  for (const r of spec.resources) {
    const drbd = assertResourceId(r?.drbdResource);
    const guest = r.guest ? assertResourceId(r.guest.name) : undefined;
    const id = ids(drbd, guest);
    for (const x of Object.values(id)) {
      if (seen.has(x)) throw bad(`Two resources would both be called ${x}.`, 'Give each DRBD resource and each VM its own name.');
      seen.add(x);
    }
    L.push(
      `primitive ${id.drbd} ocf:linbit:drbd params drbd_resource=${drbd} ` +
        // timeouts that hold under load: measured on the kernel lab (UML hosts, 2 loaded cores, the
        // guest's TCG QEMU beside it) the agent's monitor overran 20 s and its notify took 10–20 s;
        // a monitor timeout makes Pacemaker restart DRBD and the VM on it
        `op monitor interval=15s role=Master timeout=90s op monitor interval=16s role=Slave timeout=90s ` +
        `op start timeout=240s op stop timeout=100s op promote timeout=90s op demote timeout=90s op notify timeout=90s`,
      `ms ${id.clone} ${id.drbd} meta master-max=1 master-node-max=1 clone-max=2 clone-node-max=1 notify=true`,
    );
    resourceIds.push(id.clone, id.drbd);
    ex.push(
      {
        id: id.drbd,
        kind: 'primitive',
        text: `DRBD resource ${drbd}, run by LINBIT’s agent: Pacemaker starts it on both hosts and watches its disk and connection state.`,
      },
      {
        id: id.clone,
        kind: 'clone',
        text: `One copy of ${drbd} per host; exactly one is promoted (Primary, the one a VM may open), the other stays Secondary and receives every write.`,
      },
    );
    if (r.guest && id.vm) {
      const argsFile = assertHostPath(r.guest.argsFile, 'guest argument file');
      L.push(
        `primitive ${id.vm} ocf:lockstep:guest params name=${guest} args=${argsFile} ` +
          `op monitor interval=5s timeout=60s op start timeout=120s op stop timeout=60s`,
        `colocation ${id.col} inf: ${id.vm} ${id.clone}:Master`,
        `order ${id.ord} Mandatory: ${id.clone}:promote ${id.vm}:start`,
      );
      resourceIds.unshift(id.vm);
      constraintIds.push(id.col!, id.ord!);
      ex.push(
        {
          id: id.vm,
          kind: 'primitive',
          text: `The VM ${guest}: its QEMU, started by the app’s agent with the disk on /dev/drbd of the promoted host, watched every 5 s.`,
        },
        {
          id: id.col!,
          kind: 'colocation',
          text: `${guest} runs only on the host where ${drbd} is promoted: only there can the disk be opened, and a write there is on both hosts before it is acknowledged.`,
        },
        {
          id: id.ord!,
          kind: 'order',
          text: `${drbd} is promoted before ${guest} starts, and ${guest} is stopped before ${drbd} is demoted: the VM never runs without its disk.`,
        },
      );
      if (r.preferredNode) {
        const node = assertNodeName(r.preferredNode);
        L.push(`location ${id.loc} ${id.vm} 50: ${node}`);
        constraintIds.push(id.loc!);
        ex.push({
          id: id.loc!,
          kind: 'location',
          text: `${guest} prefers ${node} when both hosts are up (a preference: it runs elsewhere when ${node} cannot).`,
        });
      }
    }
  }
  ex.push({
    id: 'drbd-fencing',
    kind: 'drbd',
    text: 'In DRBD itself (fencing resource-only): when the Primary loses its peer it keeps writing but first asks Pacemaker (crm-fence-peer) for a rule that forbids promoting the peer’s outdated copy; the rule is lifted (crm-unfence-peer) when the peer has resynced. A cut replication link alone never makes two primaries.',
  });
  L.push('');
  return { script: L.join('\n'), explanations: ex, resourceIds, constraintIds };
}
