/** What the link service remembers (store.kv 'link' and the work of a running setup), and its small shared pieces. */
import { z } from 'zod';
import type { EventBus } from '../events/event-bus.js';

import type { Level } from '../contract/index.js';
import type { LinkEndDTO, LinkStatus } from '../contract/link.js';
import type { HostPair } from '../hosts/pair-exec.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';

import { STANDARD_MTU } from './addressing.js';
import { type CableMatch, type NicPriorState } from './cable-probe.js';
import type { LinkEnd } from './addressing.js';
import type { Side } from '../hosts/command.js';
import { bySide, hostCommandSchema, hostReport, sideSchema } from '../hosts/record-schemas.js';
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

/**
 * What the link's steps may read and write: the link's records, the pair of hosts, the event log.
 * Steps get this, not the service (LinkService implements it).
 */
export interface LinkContext {
  stored(): LinkStored | undefined;
  /** remembers a finished setup and drops its working notes */
  remember(st: LinkStored): void;
  /** the working notes of this plan (fresh ones when another plan wrote them) */
  work(planId: string): LinkWork;
  saveWork(w: LinkWork): void;
  pair(p: LinkSetupParams): HostPair;
  log(level: Level, message: string, extra?: { host?: string; data?: Record<string, unknown> }): void;
}

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

// ── the records as the store must hold them (validated on every read: store/record-repo.ts) ──

const priorSchema: z.ZodType<NicPriorState> = z.object({
  name: z.string(),
  up: z.boolean(),
  mtu: z.number().int(),
  ipv6WasDisabled: z.boolean(),
  addrGenModeWas: z.string().nullable(),
});

const endSchema: z.ZodType<LinkEnd> = z.object({ side: sideSchema, nic: z.string(), mac: z.string(), address: z.string(), prior: priorSchema });

const endDtoSchema: z.ZodType<LinkEndDTO> = z.object({
  host: z.string(),
  name: z.string(),
  nic: z.string(),
  mac: z.string(),
  address: z.string(),
  mtu: z.number(),
  persistence: z.enum(['networkd', 'networkmanager', 'ifupdown', 'none']),
});

const measuredSchema = z.object({ rttP50Ms: z.number(), rttP99Ms: z.number(), mibPerSec: z.number().nullable(), tool: z.string() }).nullable();

const linkUpSchema: z.ZodType<LinkUp> = z.object({
  state: z.literal('up'),
  a: endDtoSchema,
  b: endDtoSchema,
  subnet: z.string(),
  mtu: z.number(),
  picture: z.string(),
  measured: measuredSchema,
  notes: z.array(z.string()),
});

const linkRecordSchema: z.ZodType<LinkRecord> = z.object({
  version: z.literal(1),
  subnet: z.string(),
  mtu: z.number().int(),
  ends: z.tuple([endSchema, endSchema]),
  persisted: z.array(
    z.object({
      side: sideSchema,
      kind: z.enum(['systemd-networkd', 'NetworkManager', 'ifupdown', 'none']),
      paths: z.array(z.string()),
      remove: z.array(hostCommandSchema),
    }),
  ),
});

export const linkStoredSchema: z.ZodType<LinkStored> = z.object({
  version: z.literal(1),
  hosts: bySide(z.string().min(1)),
  names: bySide(z.string()),
  record: linkRecordSchema,
  status: linkUpSchema,
  setupAt: z.number(),
});

export const linkWorkSchema: z.ZodType<LinkWork> = z.object({
  planId: z.string(),
  survey: bySide(hostReport<SideSurvey>('a NIC survey')).optional(),
  priors: bySide(z.array(priorSchema)).optional(),
  cable: hostReport<CableMatch>('the cable found').optional(),
  heard: z.array(z.string()).optional(),
  mtu: z.object({ mtu: z.number().int(), why: z.string() }).optional(),
  persist: bySide(z.object({ plan: hostReport<PersistPlan>('a persistence plan'), why: z.string() })).optional(),
  measured: measuredSchema.optional(),
  notes: z.array(z.string()),
});
