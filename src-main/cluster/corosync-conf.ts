/**
 * Pure: /etc/corosync/corosync.conf of a Lockstep Lab cluster (Corosync 3, knet).
 *
 * Per docs/field-notes/pacemaker.md: two knet links per node (link 0 = the public network,
 * link 1 = the crossover cable), so losing one cable is not a membership change; node names =
 * `uname -n` (names.ts says why: DRBD's crm-fence-peer needs it, not lowercase); token timing chosen by the caller (3000 ms = Corosync's default; 1000 ms with consensus
 * 1200 ms moved a resource in 2–3 s instead of 6–7 s on the lab); quorum from a qnetd witness
 * (`device { model: net }`, algorithm ffsplit: exactly one half of a clean split keeps quorum; of
 * two equal halves the one whose heuristics pass — the host with the DRBD Primary, where the VM
 * runs — so a cut of both links never moves the VM),
 * or `two_node` when there is no witness (then the survivor of a lost peer keeps quorum, and only
 * DRBD's resource-level fencing stops two primaries).
 */
import { LockstepError } from '../contract/errors.js';
import { assertClusterName, assertIntIn, assertNodeAddress, assertNodeName } from './names.js';

export interface ClusterNodeSpec {
  /** the node name = the host's `uname -n` (see nodeNameOf) */
  name: string;
  /** link 0: the address the hosts have on the public network */
  publicAddress: string;
  /** link 1: the address on the crossover cable */
  crossAddress: string;
}

export interface WitnessSpec {
  /** where corosync-qnetd listens */
  address: string;
  /** qnetd's port, 5403 by default */
  port?: number;
}

export interface CorosyncSpec {
  clusterName: string;
  nodes: readonly ClusterNodeSpec[];
  /** Totem token timeout in ms; consensus is 1.2 × token (Corosync's own rule). Default 3000. */
  tokenMs?: number;
  witness?: WitnessSpec | null;
}

export const DEFAULT_TOKEN_MS = 3000;
export const QNETD_PORT = 5403;
export const COROSYNC_LOG = '/var/log/corosync/corosync.log';
/** qdevice's heuristics check (cluster-commands.ts writes it): passes where a DRBD resource is Primary */
export const HEURISTICS_PATH = '/usr/lib/lockstep/drbd-primary-here';

function bad(message: string, fix: string): LockstepError {
  return new LockstepError({ code: 'bad-cluster-spec', message, fix, step: 'cluster-config' });
}

export interface ValidCorosyncSpec {
  clusterName: string;
  nodes: ClusterNodeSpec[];
  tokenMs: number;
  consensusMs: number;
  witness: Required<WitnessSpec> | null;
}

export function validateCorosyncSpec(spec: CorosyncSpec): ValidCorosyncSpec {
  const clusterName = assertClusterName(spec?.clusterName);
  if (!Array.isArray(spec.nodes) || spec.nodes.length < 2 || spec.nodes.length > 16)
    throw bad(
      `A cluster needs 2 to 16 nodes, not ${Array.isArray(spec.nodes) ? spec.nodes.length : 'none'}.`,
      'Name both hosts of the pair (and any third host).',
    );
  const nodes = spec.nodes.map((n) => ({
    name: assertNodeName(n?.name),
    publicAddress: assertNodeAddress(n?.publicAddress, 'public address'),
    crossAddress: assertNodeAddress(n?.crossAddress, 'crossover address'),
  }));
  const seen = new Set<string>();
  for (const n of nodes) {
    for (const key of [`name ${n.name}`, `address ${n.publicAddress}`, `address ${n.crossAddress}`]) {
      if (seen.has(key)) throw bad(`Two nodes share the ${key}.`, 'Give every node its own name and its own address on each link.');
      seen.add(key);
    }
    if (n.publicAddress === n.crossAddress)
      throw bad(
        `${n.name} has the same address on both links (${n.publicAddress}).`,
        'Link 0 is the public network, link 1 the crossover cable: two different addresses.',
      );
  }
  const tokenMs = assertIntIn(spec.tokenMs ?? DEFAULT_TOKEN_MS, 300, 60_000, 'token timeout (ms)', 'Use 1000–10000 ms; 3000 is Corosync’s default.');
  const witness = spec.witness
    ? {
        address: assertNodeAddress(spec.witness.address, 'witness address'),
        port: assertIntIn(spec.witness.port ?? QNETD_PORT, 1, 65535, 'witness port', `qnetd listens on ${QNETD_PORT} unless told otherwise.`),
      }
    : null;
  if (!witness && nodes.length !== 2)
    throw bad(`${nodes.length} nodes without a witness.`, 'Give a witness (corosync-qnetd) address; two_node mode is for exactly two nodes.');
  return { clusterName, nodes, tokenMs, consensusMs: Math.round(tokenMs * 1.2), witness };
}

export function renderCorosyncConf(spec: CorosyncSpec): string {
  const s = validateCorosyncSpec(spec);
  const L: string[] = [
    '# Lockstep Lab: Corosync 3 configuration. Generated; edits are overwritten.',
    'totem {',
    '    version: 2',
    `    cluster_name: ${s.clusterName}`,
    '    transport: knet',
    '    # both links carry the membership; losing one cable is not a membership change',
    '    link_mode: passive',
    '    crypto_cipher: aes256',
    '    crypto_hash: sha256',
    `    token: ${s.tokenMs}`,
    `    consensus: ${s.consensusMs}`,
    '    interface {',
    '        # link 0: the public network',
    '        linknumber: 0',
    '        knet_link_priority: 1',
    '    }',
    '    interface {',
    '        # link 1: the crossover cable (preferred while it is up)',
    '        linknumber: 1',
    '        knet_link_priority: 2',
    '    }',
    '}',
    '',
    'nodelist {',
  ];
  s.nodes.forEach((n, i) => {
    L.push(
      '    node {',
      `        name: ${n.name}`,
      `        nodeid: ${i + 1}`,
      `        ring0_addr: ${n.publicAddress}`,
      `        ring1_addr: ${n.crossAddress}`,
      '    }',
    );
  });
  L.push('}', '', 'quorum {', '    provider: corosync_votequorum');
  if (s.witness) {
    L.push(
      '    # the witness (corosync-qnetd) is the third vote: of two halves that cannot see each other,',
      '    # only the one the witness sees keeps quorum (ffsplit: exactly one half wins a clean split)',
      '    device {',
      '        model: net',
      '        votes: 1',
      '        net {',
      `            host: ${s.witness.address}`,
      `            port: ${s.witness.port}`,
      '            algorithm: ffsplit',
      '            tls: off',
      '        }',
      '        # of two equal halves, the one whose host has the DRBD Primary (where the VM runs) scores higher',
      '        heuristics {',
      '            mode: sync',
      `            exec_drbd_primary: ${HEURISTICS_PATH}`,
      '        }',
      '    }',
    );
  } else {
    L.push(
      '    # no witness: the survivor of a lost peer keeps quorum on its own; DRBD resource-level',
      '    # fencing is what stops two primaries when only the links are cut',
      '    two_node: 1',
    );
  }
  L.push('}', '', 'logging {', '    to_logfile: yes', `    logfile: ${COROSYNC_LOG}`, '    to_syslog: no', '    to_stderr: no', '    timestamp: on', '}', '');
  return L.join('\n');
}
