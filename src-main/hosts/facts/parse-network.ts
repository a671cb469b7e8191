/** Pure: the network sections (`ip -j addr`, /sys/class/net, `ip -j route`) → NICs and the default route. */
import type { NicFacts, NicKind } from './facts.js';
import { isObj, num, ok, parseJson, str, type Section } from './parse-sections.js';

interface SysNet {
  speed: number | null;
  hasDevice: boolean;
}

function parseNetSysfs(s: Map<string, Section>): Map<string, SysNet> | null {
  const lines = ok(s, 'net-sysfs');
  if (!lines) return null;
  const out = new Map<string, SysNet>();
  for (const l of lines) {
    const parts = l.split('\t');
    if (parts.length < 4) continue;
    const [speed, , dev] = parts;
    const name = parts.slice(3).join('\t');
    const sp = num(speed);
    out.set(name, { speed: sp !== null && sp > 0 ? sp : null, hasDevice: dev === 'device' });
  }
  return out;
}

const kindOf = (linkType: string | null, infoKind: string | null, sys: SysNet | undefined, sysKnown: boolean, parentbus: string | null): NicKind => {
  if (linkType === 'loopback') return 'loopback';
  switch (infoKind) {
    case 'bridge':
    case 'veth':
    case 'bond':
    case 'vlan':
    case 'tun':
      return infoKind;
    case null:
      break;
    default:
      return 'virtual';
  }
  if (sys) return sys.hasDevice ? 'physical' : 'virtual';
  return !sysKnown || parentbus !== null ? 'physical' : 'virtual';
};

export function parseNics(s: Map<string, Section>): NicFacts[] {
  const list = parseJson(ok(s, 'ip-addr'));
  if (!Array.isArray(list)) return [];
  const sysfs = parseNetSysfs(s);
  const out: NicFacts[] = [];
  for (const l of list) {
    if (!isObj(l)) continue;
    const name = str(l.ifname);
    if (name === null) continue;
    const flags = Array.isArray(l.flags) ? l.flags.filter((f): f is string => typeof f === 'string') : [];
    const linkinfo = isObj(l.linkinfo) ? l.linkinfo : null;
    const infoKind = linkinfo ? str(linkinfo.info_kind) : null;
    const sys = sysfs?.get(name);
    const addresses: string[] = [];
    for (const a of Array.isArray(l.addr_info) ? l.addr_info : []) {
      if (!isObj(a)) continue;
      const local = str(a.local);
      const prefix = num(a.prefixlen);
      if (local === null || prefix === null) continue;
      if (a.family === 'inet6' && (a.scope === 'link' || /^fe[89ab]/i.test(local))) continue;
      addresses.push(`${local}/${prefix}`);
    }
    out.push({
      name,
      mac: str(l.address),
      adminUp: flags.includes('UP'),
      carrier: flags.includes('LOWER_UP'),
      operstate: str(l.operstate),
      speedMbps: sys?.speed ?? null,
      mtu: num(l.mtu),
      addresses,
      master: str(l.master),
      kind: kindOf(str(l.link_type), infoKind, sys, sysfs !== null, str(l.parentbus)),
      linkKind: infoKind,
    });
  }
  return out;
}

export function defaultRoute(s: Map<string, Section>, name: string): string | null {
  const routes = parseJson(ok(s, name));
  if (!Array.isArray(routes)) return null;
  let best: { dev: string; metric: number } | null = null;
  for (const r of routes) {
    if (!isObj(r) || r.dst !== 'default') continue;
    const dev = str(r.dev);
    if (dev === null) continue;
    const metric = num(r.metric) ?? 0;
    if (!best || metric < best.metric) best = { dev, metric };
  }
  return best?.dev ?? null;
}
