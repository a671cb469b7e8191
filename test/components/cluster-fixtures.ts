/**
 * Cluster DTOs as `cluster.status` builds them, from real crm_mon output (test/fixtures/crm-mon,
 * read by the app's own parser) and the app's own pure functions (the explanations of the
 * generated configuration, the words of `cluster remove`'s refusal).
 */
import { clusterRecord } from '../helpers/cluster-fixture.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterStatusDTO, ErrorDTO } from '../../src-main/contract/index.js';
import type { ClusterStored } from '../../src-main/cluster/cluster-record.js';
import { renderCrmConfig } from '../../src-main/cluster/crm-config.js';
import { parseCrmMon, runningOn } from '../../src-main/cluster/crm-mon.js';
import { removeWords } from '../../src-main/cluster/remove-steps.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'crm-mon');

/**
 * A recorded crm_mon document; `guestOn` adds the guest's primitive as crm_mon prints one
 * (the recordings were made without `--guest demo`), Started on that node.
 */
export function monXml(file: 'healthy' | 'peer-off' | 'failed-action', guestOn?: string): string {
  const xml = readFileSync(join(dir, `${file}.xml`), 'utf8');
  if (!guestOn) return xml;
  const id = guestOn === 'hosta' ? '1' : '2';
  const vm =
    `    <resource id="p_vm_demo" resource_agent="ocf:lockstep:guest" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">\n` +
    `      <node name="${guestOn}" id="${id}" cached="true"/>\n    </resource>\n`;
  return xml.replace('  </resources>', `${vm}  </resources>`);
}

export const GUEST = { name: 'demo', address: '198.18.77.50' };

/** What the app stores for the lab's cluster (hosts hosta/hostb, DRBD r0, the demo guest). */
export function stored(over: Partial<ClusterStored> = {}): ClusterStored {
  return clusterRecord({
    hosts: { A: '198.18.77.11:22', B: '198.18.77.12:22' },
    // the node names of the crm_mon recordings
    nodes: { A: 'hosta', B: 'hostb' },
    publicAddresses: { A: '198.18.77.11', B: '198.18.77.12' },
    authkey: 'a2V5',
    starter: { A: 'direct', B: 'direct' },
    complete: true,
    guest: { ...GUEST, device: '/dev/drbd0', argv: ['qemu-system-x86_64'] },
    ...over,
  });
}

/** `cluster.status` of a running cluster, as ClusterService builds it. */
export function running(
  xml: string,
  o: { readFrom?: string; witness?: string | null; witnessLocal?: { running: boolean }; guest?: boolean } = {},
): Extract<ClusterStatusDTO, { state: 'running' }> {
  const mon = parseCrmMon(xml);
  const withGuest = o.guest ?? true;
  const explanations = renderCrmConfig({
    resources: [{ drbdResource: 'r0', guest: withGuest ? { name: 'demo', argsFile: '/etc/lockstep/guests/demo.args' } : null }],
  }).explanations;
  return {
    state: 'running',
    clusterName: 'lockstep',
    readFrom: o.readFrom ?? 'hostA',
    mon,
    explanations,
    witness: o.witness ?? null,
    ...(o.witnessLocal ? { witnessLocal: o.witnessLocal } : {}),
    guest: withGuest ? { ...GUEST, node: runningOn(mon, 'p_vm_demo') } : null,
  };
}

/** `cluster.remove` without its confirmation: refused, naming what stops (the service's own words). */
export function confirmNeeded(keepGuest: boolean, guestOn: string | null): ErrorDTO {
  return {
    code: 'confirm-needed',
    message: removeWords(stored(), keepGuest, guestOn),
    fix: `lockstep cluster remove --confirm lockstep${keepGuest ? ' --keep-guest' : ''}`,
  };
}
