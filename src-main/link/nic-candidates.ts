/**
 * Pure: which NICs of a host may be the crossover cable, and why every other one is not.
 * Input is the JSON of `ip -j -d link show`, `ip -j addr show` and `ip -j route show`
 * (iproute2 ≥ 4.14); nothing here runs a command.
 */
import { installFixAnyDistro } from '../hosts/distro.js';
import { LockstepError } from '../contract/index.js';
import type { Argv } from '../hosts/command.js';
import { cidrContains, parseCidr } from '../net/ipv4.js';

// ── ip -j output (only the fields used; iproute2 adds more) ─────────────────────────────

export interface IpLinkInfo {
  /** veth, bridge, bond, vlan, tun, dummy, macvlan, … (absent for a physical NIC) */
  info_kind?: string;
  /** bridge / bond when this NIC is a port of one */
  info_slave_kind?: string;
  info_data?: { type?: string; [k: string]: unknown };
}

export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate?: string;
  /** ether, loopback, none (tun), ipip, … */
  link_type?: string;
  address?: string;
  /** the bridge/bond this NIC is enslaved to */
  master?: string;
  /** the lower device (vlan, macvlan) or the veth peer when in the same namespace */
  link?: string | null;
  min_mtu?: number;
  max_mtu?: number;
  /** eui64, none, stable_secret, random */
  inet6_addr_gen_mode?: string;
  parentbus?: string;
  parentdev?: string;
  linkinfo?: IpLinkInfo;
}

export interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
  tentative?: boolean;
  dadfailed?: boolean;
  label?: string;
}

export interface IpAddr {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  address?: string;
  addr_info: IpAddrInfo[];
}

export interface IpRoute {
  dst: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  /** absent = unicast; local, broadcast, multicast, blackhole, … */
  type?: string;
  /** absent = main */
  table?: string;
  metric?: number;
  nexthops?: { dev?: string; gateway?: string }[];
}

function badOutput(what: string, text: string, why: string): LockstepError {
  return new LockstepError({
    code: 'link-bad-ip-output',
    message: `Could not read the output of \`${what}\` (${why}).`,
    cause: text.slice(0, 200),
    fix: `Install iproute2 4.14 or newer (its ip prints JSON with -j; busybox's ip cannot): ${installFixAnyDistro(['ip'])}`,
    step: 'link-survey',
  });
}

/** Parses an `ip -j …` array whose entries must carry the given keys. An empty output is an empty list. */
export function parseIpJson<T>(text: string, what: string, required: readonly string[]): T[] {
  if (text.trim() === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badOutput(what, text, 'not JSON');
  }
  if (!Array.isArray(v)) throw badOutput(what, text, 'not a JSON array');
  for (const e of v) {
    if (typeof e !== 'object' || e === null || required.some((k) => !(k in e))) throw badOutput(what, text, `an entry lacks ${required.join('/')}`);
  }
  return v as T[];
}

export const parseIpLinks = (text: string): IpLink[] => parseIpJson<IpLink>(text, 'ip -j -d link show', ['ifname', 'flags', 'mtu']);
export const parseIpAddrs = (text: string): IpAddr[] =>
  parseIpJson<IpAddr>(text, 'ip -j addr show', ['ifname', 'addr_info']).map((a) => ({ ...a, addr_info: a.addr_info.filter((i) => i && i.local) }));
export const parseIpRoutes = (text: string): IpRoute[] => parseIpJson<IpRoute>(text, 'ip -j route show', ['dst']);

/** The three commands whose output `surveyNics` reads (read-only). */
export function surveyCommands(): { link: Argv; addr: Argv; route: Argv } {
  return {
    link: ['ip', '-j', '-d', 'link', 'show'],
    addr: ['ip', '-j', 'addr', 'show'],
    route: ['ip', '-j', 'route', 'show'],
  };
}

// ── the decision ───────────────────────────────────────────────────────────────────────

export type ExclusionCode =
  | 'loopback'
  | 'not-ethernet'
  | 'virtual'
  | 'enslaved'
  | 'carries-upper'
  | 'has-ipv4'
  | 'has-ipv6'
  | 'default-route'
  | 'has-routes'
  | 'lockstep-link'
  | 'user-excluded'
  | 'odd-name'
  | 'no-mac';

export interface NicExclusion {
  name: string;
  reasons: { code: ExclusionCode; text: string }[];
  /** the reasons as one sentence, for the UI */
  why: string;
}

export interface NicCandidate {
  name: string;
  /** lower-case aa:bb:cc:dd:ee:ff */
  mac: string;
  /** `ethernet` for a physical-ish NIC, else the link kind that was allowed (veth, …) */
  kind: string;
  up: boolean;
  /** LOWER_UP seen; null when the NIC is down (carrier unknown until it is up) */
  carrier: boolean | null;
  mtu: number;
  /** largest MTU the driver accepts; null when iproute2/the kernel does not say */
  maxMtu: number | null;
  /** IPv6 link-local addresses it already has (none while down) */
  linkLocal: string[];
  addrGenMode: string | null;
}

export interface NicSurvey {
  candidates: NicCandidate[];
  excluded: NicExclusion[];
  /** NICs that already carry an address inside the link subnet (a previous `link setup`) */
  linked: { name: string; mac: string; address: string }[];
}

export interface SurveyOptions {
  /** link kinds the user allows besides physical NICs and veth (e.g. `['vlan']`) */
  allowKinds?: readonly string[];
  /** NIC names the user never wants touched */
  ignore?: readonly string[];
  /** the link subnet (default 10.99.0.0/30): addresses inside it mark a NIC as already linked */
  linkCidr?: string;
}

/** Link kinds a crossover may have without being configured. veth: the virtual lab and containers. */
export const DEFAULT_ALLOWED_KINDS: readonly string[] = ['veth'];
const UPPER_KINDS = new Set(['vlan', 'macvlan', 'macvtap', 'ipvlan', 'ipvtap', 'vxlan', 'geneve']);
/** Names that are safe in argv, file names (`60-lockstep-IFACE.network`) and keyfile ids. */
export const SAFE_IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase();
}

function kindLabel(l: IpLink): string {
  const k = l.linkinfo?.info_kind;
  if (k === 'tun') return l.linkinfo?.info_data?.type === 'tap' ? 'tap' : 'tun';
  return k ?? 'ethernet';
}

function routeDevs(r: IpRoute): string[] {
  return [r.dev, ...(r.nexthops ?? []).map((n) => n.dev)].filter((d): d is string => typeof d === 'string');
}

function isDefault(r: IpRoute): boolean {
  return r.dst === 'default' || r.dst === '0.0.0.0/0' || r.dst === '::/0';
}

/** Pure: sort every NIC of one host into candidates and exclusions (with every reason that applies). */
export function surveyNics(input: { links: readonly IpLink[]; addrs: readonly IpAddr[]; routes: readonly IpRoute[] }, opts: SurveyOptions = {}): NicSurvey {
  const allowed = new Set([...DEFAULT_ALLOWED_KINDS, ...(opts.allowKinds ?? [])]);
  const ignore = new Set(opts.ignore ?? []);
  const linkCidr = parseCidr(opts.linkCidr ?? '10.99.0.0/30');
  const addrsOf = new Map(input.addrs.map((a) => [a.ifname, a.addr_info]));
  const out: NicSurvey = { candidates: [], excluded: [], linked: [] };

  for (const l of input.links) {
    const reasons: NicExclusion['reasons'] = [];
    const no = (code: ExclusionCode, text: string) => reasons.push({ code, text });
    const kind = kindLabel(l);
    const info = addrsOf.get(l.ifname) ?? [];
    const v4 = info.filter((i) => i.family === 'inet');
    const v6 = info.filter((i) => i.family === 'inet6' && i.scope !== 'link');
    const mac = normalizeMac(l.address ?? '');
    const ownV4 = linkCidr && v4.length > 0 && v4.every((i) => parseCidr(i.local) && cidrContains(linkCidr, parseCidr(i.local)!.address));

    if (l.link_type === 'loopback' || l.flags.includes('LOOPBACK')) no('loopback', 'loopback');
    else if (l.link_type !== undefined && l.link_type !== 'ether') no('not-ethernet', `not an Ethernet NIC (link type ${l.link_type})`);
    else if (l.linkinfo?.info_kind && !allowed.has(l.linkinfo.info_kind) && !allowed.has(kind))
      no('virtual', `a ${kind} device, not a cable port (allow it with the link kind setting if it is one)`);
    if (!SAFE_IFNAME.test(l.ifname)) no('odd-name', 'its name has characters unsafe in file names');
    if (ignore.has(l.ifname)) no('user-excluded', 'excluded by the user');
    if (l.master || l.linkinfo?.info_slave_kind) no('enslaved', `a port of ${l.linkinfo?.info_slave_kind ?? 'master'} ${l.master ?? '?'}`);
    const uppers = input.links.filter((u) => u.link === l.ifname && UPPER_KINDS.has(u.linkinfo?.info_kind ?? ''));
    if (uppers.length) no('carries-upper', `carries ${uppers.map((u) => `${u.linkinfo?.info_kind} ${u.ifname}`).join(', ')}`);
    if (ownV4) {
      no('lockstep-link', `already carries the link address ${v4.map((i) => `${i.local}/${i.prefixlen}`).join(', ')} (a previous link setup)`);
      out.linked.push({ name: l.ifname, mac, address: `${v4[0]!.local}/${v4[0]!.prefixlen}` });
    } else if (v4.length) no('has-ipv4', `carries ${v4.map((i) => `${i.local}/${i.prefixlen}`).join(', ')}`);
    if (v6.length) no('has-ipv6', `carries ${v6.map((i) => `${i.local}/${i.prefixlen}`).join(', ')}`);
    const routes = input.routes.filter((r) => routeDevs(r).includes(l.ifname) && (r.type === undefined || r.type === 'unicast'));
    if (routes.some(isDefault)) no('default-route', 'carries the default route');
    const other = routes.filter(
      (r) => !isDefault(r) && !r.dst.includes(':') && !(ownV4 && linkCidr && parseCidr(r.dst) && cidrContains(linkCidr, parseCidr(r.dst)!.network)),
    );
    if (other.length && !v4.length) no('has-routes', `carries routes (${other.map((r) => r.dst).join(', ')})`);
    if (reasons.length === 0 && (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) || mac === '00:00:00:00:00:00')) no('no-mac', 'no Ethernet address');

    if (reasons.length) {
      out.excluded.push({ name: l.ifname, reasons, why: reasons.map((r) => r.text).join('; ') });
      continue;
    }
    const up = l.flags.includes('UP');
    out.candidates.push({
      name: l.ifname,
      mac,
      kind,
      up,
      carrier: up ? l.flags.includes('LOWER_UP') : null,
      mtu: l.mtu,
      maxMtu: typeof l.max_mtu === 'number' && l.max_mtu > 0 ? l.max_mtu : null,
      linkLocal: (addrsOf.get(l.ifname) ?? []).filter((i) => i.family === 'inet6' && i.scope === 'link').map((i) => i.local),
      addrGenMode: l.inet6_addr_gen_mode ?? null,
    });
  }
  return out;
}

/** Pure: the same, straight from the three commands' stdout. */
export function surveyNicsFromOutput(out: { link: string; addr: string; route: string }, opts: SurveyOptions = {}): NicSurvey {
  return surveyNics({ links: parseIpLinks(out.link), addrs: parseIpAddrs(out.addr), routes: parseIpRoutes(out.route) }, opts);
}
