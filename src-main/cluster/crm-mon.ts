/**
 * Pure: `crm_mon -1 --output-as=xml` (Pacemaker 2.1) → ClusterMonDTO. Also reads the older
 * `crm_mon --as-xml` shape (<crm_mon> root, `quorum` in the summary). Unknown elements are
 * ignored; a document that is not crm_mon output throws a LockstepError.
 */
import { LockstepError } from '../contract/errors.js';
import type { ClusterFailureDTO, ClusterMonDTO, ClusterNodeDTO, ClusterResourceDTO } from '../contract/cluster.js';
import { child, childrenNamed, parseXml, XmlError, type XmlElement } from './xml.js';

const yes = (v: string | undefined) => v === 'true';
const ROLE_WORDS: Record<string, string> = { Master: 'Promoted', Slave: 'Unpromoted' };

function bad(cause: string): LockstepError {
  return new LockstepError({
    code: 'cluster-status-unreadable',
    message: 'The output of crm_mon could not be read.',
    cause,
    fix: 'Run `crm_mon -1 --output-as=xml` on the host to see what Pacemaker says; `lockstep cluster setup` repairs a half-made cluster.',
  });
}

function node(el: XmlElement): ClusterNodeDTO {
  return {
    name: el.attrs.name ?? '',
    id: el.attrs.id ?? '',
    online: yes(el.attrs.online),
    standby: yes(el.attrs.standby),
    unclean: yes(el.attrs.unclean),
    pending: yes(el.attrs.pending),
    isDc: yes(el.attrs.is_dc),
    resourcesRunning: Number(el.attrs.resources_running ?? 0) || 0,
  };
}

function resource(el: XmlElement, parent?: string): ClusterResourceDTO {
  const role = el.attrs.role ?? 'Unknown';
  return {
    id: el.attrs.id ?? '',
    agent: el.attrs.resource_agent ?? '',
    role: ROLE_WORDS[role] ?? role,
    active: yes(el.attrs.active),
    failed: yes(el.attrs.failed),
    managed: el.attrs.managed !== 'false',
    nodes: childrenNamed(el, 'node').map((n) => n.attrs.name ?? ''),
    ...(parent ? { parent } : {}),
  };
}

/** Resources, clones and groups flattened: one entry per instance, each naming its clone/group. */
function resources(el: XmlElement | undefined, parent?: string): ClusterResourceDTO[] {
  const out: ClusterResourceDTO[] = [];
  for (const c of el?.children ?? []) {
    if (c.name === 'resource') out.push(resource(c, parent));
    else if (c.name === 'clone' || c.name === 'group' || c.name === 'bundle') out.push(...resources(c, c.attrs.id));
  }
  return out;
}

function failure(el: XmlElement): ClusterFailureDTO {
  const opKey = el.attrs.op_key ?? el.attrs.id ?? '';
  const task = el.attrs.task ?? '';
  // op_key is RESOURCE_TASK_INTERVAL: the resource is what precedes "_task_"
  const cut = task ? opKey.lastIndexOf(`_${task}_`) : -1;
  return {
    resource: cut > 0 ? opKey.slice(0, cut) : opKey,
    task,
    node: el.attrs.node ?? '',
    exitCode: Number(el.attrs.exitcode ?? el.attrs.rc ?? -1),
    exitStatus: el.attrs.exitstatus ?? el.attrs.rc_text ?? '',
    exitReason: el.attrs.exitreason ?? '',
    at: el.attrs['last-rc-change'] ?? '',
  };
}

export function parseCrmMon(xml: string): ClusterMonDTO {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    throw bad(e instanceof XmlError ? e.message : String(e));
  }
  if (root.name !== 'pacemaker-result' && root.name !== 'crm_mon') throw bad(`root element <${root.name}>, not <pacemaker-result>`);
  const status = child(root, 'status');
  if (status && status.attrs.code !== '0') throw bad(`crm_mon: ${status.attrs.message ?? 'error'} (code ${status.attrs.code})`);
  const summary = child(root, 'summary');
  if (!summary) throw bad('no <summary>: Pacemaker is not answering on this host');
  const dcEl = child(summary, 'current_dc');
  const present = yes(dcEl?.attrs.present);
  const options = child(summary, 'cluster_options');
  return {
    dc: present && dcEl ? { name: dcEl.attrs.name ?? '', id: dcEl.attrs.id ?? '' } : null,
    quorate: present ? yes(dcEl?.attrs.with_quorum) : false,
    pacemakerVersion: dcEl?.attrs.version ?? null,
    stonithEnabled: options?.attrs['stonith-enabled'] === undefined ? null : yes(options.attrs['stonith-enabled']),
    nodes: childrenNamed(child(root, 'nodes'), 'node').map(node),
    resources: resources(child(root, 'resources')),
    failures: childrenNamed(child(root, 'failures'), 'failure').map(failure),
  };
}

/** Pure: where a promotable clone is promoted (its instance with role Promoted), or null. */
export function promotedNode(mon: ClusterMonDTO, cloneId: string): string | null {
  const r = mon.resources.find((x) => x.parent === cloneId && x.role === 'Promoted' && x.active);
  return r?.nodes[0] ?? null;
}

/** Pure: the node a resource runs on, or null. */
export function runningOn(mon: ClusterMonDTO, id: string): string | null {
  const r = mon.resources.find((x) => x.id === id && x.active);
  return r?.nodes[0] ?? null;
}
