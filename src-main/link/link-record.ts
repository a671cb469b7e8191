/** What the link service remembers (store.kv 'link' and the work of a running setup), and its small shared pieces. */
import type { EventBus } from '../events/event-bus.js';

import type { LinkEndDTO, LinkStatus } from '../contract/link.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';

import { STANDARD_MTU } from './addressing.js';
import { type CableMatch, type NicPriorState } from './cable-probe.js';
import type { Side } from '../hosts/command.js';
import {} from './measure.js';
import { type IpAddr, type IpLink, type IpRoute, type NicCandidate, type NicSurvey } from './nic-candidates.js';
import { type LinkRecord, type PersistenceKind, type PersistPlan } from './persist.js';

export interface LinkDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  /** is a DRBD mirror configured over this link (asked of the mirror service; absent: none) */
  mirrorConfigured?: () => boolean;
}

export type LinkUp = Extract<LinkStatus, { state: 'up' }>;

/** What `link setup` leaves in store.kv('link'): the status it showed, and everything `link remove` needs. */
export interface LinkStored {
  version: 1;
  /** host identities (address:port) of side A and B */
  hosts: Record<Side, string>;
  names: Record<Side, string>;
  record: LinkRecord;
  status: LinkUp;
  setupAt: number;
}

export interface LinkSetupParams {
  /** host identities, resolved when the plan started */
  a: string;
  b: string;
  subnet: string;
  mtu: 'auto' | '1500' | '9000';
}

/** One host's NICs as surveyed by this plan. */
export interface SideSurvey extends NicSurvey {
  links: IpLink[];
  routes: IpRoute[];
}

/**
 * A NIC that already carries an address of the link subnet (this host kept its half of the link
 * while the other rebooted) takes part in the cable probe like a free NIC.
 */
export function linkedAsCandidates(s: NicSurvey, links: readonly IpLink[], addrs: readonly IpAddr[]): NicCandidate[] {
  return s.linked.map((l) => {
    const link = links.find((x) => x.ifname === l.name);
    const up = link?.flags.includes('UP') ?? false;
    return {
      name: l.name,
      mac: l.mac,
      kind: link?.linkinfo?.info_kind ?? 'ethernet',
      up,
      carrier: up ? (link?.flags.includes('LOWER_UP') ?? null) : null,
      mtu: link?.mtu ?? STANDARD_MTU,
      maxMtu: typeof link?.max_mtu === 'number' && link.max_mtu > 0 ? link.max_mtu : null,
      linkLocal: (addrs.find((a) => a.ifname === l.name)?.addr_info ?? []).filter((i) => i.family === 'inet6' && i.scope === 'link').map((i) => i.local),
      addrGenMode: link?.inet6_addr_gen_mode ?? null,
    };
  });
}

/** The plan's working notes (store.kv 'link.work'), so a resumed plan continues where it was. */
export interface LinkWork {
  planId: string;
  survey?: Record<Side, SideSurvey>;
  /** every candidate as it was before the probe touched it */
  priors?: Record<Side, NicPriorState[]>;
  cable?: CableMatch;
  heard?: string[];
  mtu?: { mtu: number; why: string };
  persist?: Record<Side, { plan: PersistPlan; why: string }>;
  measured?: LinkUp['measured'];
  notes: string[];
}

export const LINK_KEY = 'link';
export const WORK_KEY = 'link.work';

export const DTO_PERSISTENCE: Record<PersistenceKind, LinkEndDTO['persistence']> = {
  'systemd-networkd': 'networkd',
  NetworkManager: 'networkmanager',
  ifupdown: 'ifupdown',
  none: 'none',
};
