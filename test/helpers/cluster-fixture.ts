/** The cluster record the unit tests of the cluster's steps start from: two nodes, DRBD r0, no guest. */
import type { ClusterStored } from '../../src-main/cluster/cluster-record.js';

export function clusterRecord(over: Partial<ClusterStored> = {}): ClusterStored {
  return {
    version: 1,
    clusterName: 'lockstep',
    hosts: { A: 'a:22', B: 'b:22' },
    nodes: { A: 'hostA', B: 'hostB' },
    publicAddresses: { A: '198.18.74.11', B: '198.18.74.12' },
    crossAddresses: { A: '10.99.0.1', B: '10.99.0.2' },
    drbdResource: 'r0',
    tokenMs: 1000,
    witness: null,
    authkey: Buffer.alloc(256, 7).toString('base64'),
    starter: {},
    complete: false,
    ...over,
  };
}
