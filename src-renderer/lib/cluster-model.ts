import type { ClusterNodeDTO, ClusterResourceDTO, ClusterStatusDTO } from '../../src-main/contract/index.js';

/** Pure: the Cluster view's picture of a running cluster (what crm_mon said, in the window's words). */

export type RunningCluster = Extract<ClusterStatusDTO, { state: 'running' }>;
export type Tone = 'ok' | 'warn' | 'bad';

export interface NodeCard {
  name: string;
  online: boolean;
  /** online | offline | unclean | standby | joining */
  state: string;
  stateText: string;
  isDc: boolean;
  /** the role of each DRBD clone's instance on this node */
  drbd: { clone: string; role: string }[];
  promoted: boolean;
  /** the guest that runs here, by name */
  guest: string | null;
}

export interface CloneCard {
  id: string;
  promotedOn: string | null;
  text: string;
}

export interface ClusterModel {
  headline: { tone: Tone; text: string; detail: string };
  nodes: NodeCard[];
  quorum: { quorate: boolean; tone: Tone; text: string };
  /** null: no witness (two_node) */
  witness: { address: string; tone: Tone; text: string } | null;
  clones: CloneCard[];
  guest: { name: string; address: string; node: string | null; text: string } | null;
  failures: { key: string; text: string; reason: string; at: string }[];
}

const DRBD_AGENT = 'ocf:linbit:drbd';

function nodeState(n: ClusterNodeDTO): { state: string; text: string } {
  if (n.unclean) return { state: 'unclean', text: 'UNCLEAN: Pacemaker cannot confirm its state' };
  if (!n.online) return { state: 'offline', text: 'offline' };
  if (n.pending) return { state: 'joining', text: 'joining the cluster' };
  if (n.standby) return { state: 'standby', text: 'standby: runs nothing' };
  return { state: 'online', text: 'online' };
}

/** DRBD's promotable clones: each clone's instances by node. */
function clonesOf(resources: ClusterResourceDTO[]): Map<string, ClusterResourceDTO[]> {
  const out = new Map<string, ClusterResourceDTO[]>();
  for (const r of resources)
    if (r.agent === DRBD_AGENT) {
      const id = r.parent ?? r.id;
      out.set(id, [...(out.get(id) ?? []), r]);
    }
  return out;
}

function quorumOf(s: RunningCluster, online: string[], offline: string[]): ClusterModel['quorum'] {
  const m = s.mon;
  if (!m.dc)
    return {
      quorate: false,
      tone: 'warn',
      text: 'No quorum yet: no Designated Controller is elected (the cluster is starting or its nodes cannot see each other).',
    };
  if (!m.quorate)
    return {
      quorate: false,
      tone: 'bad',
      text: `No quorum on ${s.readFrom}: it stops what it runs (no-quorum-policy=stop) and cannot promote DRBD.`,
    };
  if (offline.length === 0)
    return {
      quorate: true,
      tone: 'ok',
      text: s.witness
        ? `Quorate: ${online.join(' and ')} vote, the witness at ${s.witness} is the third vote.`
        : `Quorate: ${online.join(' and ')} vote (two_node: either would keep quorum alone).`,
    };
  return {
    quorate: true,
    tone: 'warn',
    text: s.witness
      ? `Quorate with the witness's vote: ${online.join(' and ')} and the witness at ${s.witness} outvote ${offline.join(' and ')}.`
      : `Quorate on its own (two_node): ${online.join(' and ')} keeps quorum without ${offline.join(' and ')}; no witness decides a cut of both links.`,
  };
}

function witnessOf(s: RunningCluster): ClusterModel['witness'] {
  if (!s.witness) return null;
  if (s.witnessLocal)
    return s.witnessLocal.running
      ? { address: s.witness, tone: 'ok', text: 'corosync-qnetd run by this app: running' }
      : { address: s.witness, tone: 'bad', text: 'corosync-qnetd run by this app: NOT running (Set up starts it again)' };
  return { address: s.witness, tone: 'ok', text: 'corosync-qnetd on a third machine' };
}

export function clusterModel(s: RunningCluster): ClusterModel {
  const m = s.mon;
  const clones = clonesOf(m.resources);
  const nodes: NodeCard[] = m.nodes.map((n) => {
    const st = nodeState(n);
    const drbd = [...clones].map(([clone, inst]) => ({ clone, role: inst.find((r) => r.active && r.nodes.includes(n.name))?.role ?? 'Stopped' }));
    return {
      name: n.name,
      online: n.online && !n.unclean,
      state: st.state,
      stateText: st.text,
      isDc: m.dc?.name === n.name,
      drbd,
      promoted: drbd.some((d) => d.role === 'Promoted'),
      guest: s.guest && s.guest.node === n.name ? s.guest.name : null,
    };
  });
  const online = nodes.filter((n) => n.online).map((n) => n.name);
  const offline = nodes.filter((n) => !n.online).map((n) => n.name);
  const cloneCards: CloneCard[] = [...clones].map(([id, inst]) => {
    const promotedOn = inst.find((r) => r.role === 'Promoted' && r.active)?.nodes[0] ?? null;
    const others = inst.filter((r) => r.active && r.role !== 'Promoted').map((r) => `${r.role} on ${r.nodes.join(', ')}`);
    return {
      id,
      promotedOn,
      text: `${promotedOn ? `Promoted on ${promotedOn}` : 'Promoted nowhere'}${others.length ? `; ${others.join('; ')}` : ''}`,
    };
  });
  const g = s.guest;
  const guest = g
    ? { ...g, text: g.node ? `${g.name} (${g.address}) runs on ${g.node}` : `${g.name} (${g.address}) is stopped: Pacemaker runs it nowhere now` }
    : null;
  const failures = m.failures.map((f, i) => ({
    key: `${f.resource}-${f.task}-${f.node}-${i}`,
    text: `${f.task} of ${f.resource} on ${f.node} failed: ${f.exitStatus || 'error'} (exit ${f.exitCode})`,
    reason: f.exitReason,
    at: f.at,
  }));
  const quorum = quorumOf(s, online, offline);
  const detail = [
    ...cloneCards.map((c) => `DRBD ${c.id}: ${c.promotedOn ? `promoted on ${c.promotedOn}` : 'promoted nowhere'}`),
    ...(guest ? [guest.node ? `guest ${guest.name} on ${guest.node}` : `guest ${guest.name} stopped`] : []),
    `read from ${s.readFrom}`,
  ].join(' · ');
  let headline: ClusterModel['headline'];
  if (!quorum.quorate) headline = { tone: quorum.tone, text: `Cluster ${s.clusterName}: no quorum`, detail };
  else if (offline.length)
    headline = {
      tone: 'warn',
      text: `${offline.join(' and ')} ${offline.length > 1 ? 'are' : 'is'} offline: ${online.join(' and ')} carries the cluster`,
      detail,
    };
  else if (failures.length)
    headline = { tone: 'warn', text: `Cluster ${s.clusterName} runs, with ${failures.length} failed action${failures.length > 1 ? 's' : ''}`, detail };
  else if (cloneCards.some((c) => !c.promotedOn)) headline = { tone: 'warn', text: `Cluster ${s.clusterName} runs; DRBD is promoted nowhere`, detail };
  else headline = { tone: 'ok', text: `Cluster ${s.clusterName} runs on ${online.join(' and ')}`, detail };
  return { headline, nodes, quorum, witness: witnessOf(s), clones: cloneCards, guest, failures };
}
