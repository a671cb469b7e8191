/** Pure IPv4 arithmetic for the link: dotted quads, CIDRs, overlap. */

export interface Cidr {
  /** the network address as an unsigned 32-bit integer */
  network: number;
  prefixlen: number;
}

const QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIpv4(s: string): boolean {
  const m = QUAD.exec(s);
  return !!m && m.slice(1).every((o) => Number(o) <= 255 && (o === '0' || !o.startsWith('0')));
}

export function ipToInt(s: string): number {
  if (!isIpv4(s)) throw new Error(`not an IPv4 address: ${s}`);
  return s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function maskOf(prefixlen: number): number {
  return prefixlen === 0 ? 0 : (0xffffffff << (32 - prefixlen)) >>> 0;
}

/** `a.b.c.d/n` (or a bare address = /32) → network and length; null when malformed. */
export function parseCidr(s: string): (Cidr & { address: number }) | null {
  const [addr, len, extra] = s.trim().split('/');
  if (extra !== undefined || addr === undefined || !isIpv4(addr)) return null;
  const prefixlen = len === undefined ? 32 : /^\d{1,2}$/.test(len) ? Number(len) : NaN;
  if (!(prefixlen >= 0 && prefixlen <= 32)) return null;
  const address = ipToInt(addr);
  return { address, network: (address & maskOf(prefixlen)) >>> 0, prefixlen };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.network)}/${c.prefixlen}`;
}

/** Do two IPv4 CIDRs share at least one address? */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const mask = maskOf(Math.min(a.prefixlen, b.prefixlen));
  return (a.network & mask) >>> 0 === (b.network & mask) >>> 0;
}

export function cidrContains(outer: Cidr, address: number): boolean {
  return (address & maskOf(outer.prefixlen)) >>> 0 === outer.network;
}

/** Host addresses of a CIDR (no network/broadcast below /31); throws when wider than /minPrefix. */
export function hostsOf(cidr: string, minPrefix = 16): string[] {
  const c = parseCidr(cidr);
  if (!c || !cidr.includes('/')) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  if (c.prefixlen < minPrefix) throw new Error(`${cidr} is wider than /${minPrefix}`);
  const size = 2 ** (32 - c.prefixlen);
  if (size <= 2) return Array.from({ length: size }, (_, i) => intToIp(c.network + i));
  return Array.from({ length: size - 2 }, (_, i) => intToIp(c.network + 1 + i));
}

/** A local interface address → the subnet to scan, capped at /24 around the address. */
export function scanCidrFor(address: string, prefixLen: number): string {
  const prefixlen = Math.max(prefixLen, 24);
  return formatCidr({ network: (ipToInt(address) & maskOf(prefixlen)) >>> 0, prefixlen });
}

/** Do two CIDRs given as text overlap? (false when either is malformed) */
export function cidrTextsOverlap(a: string, b: string): boolean {
  const ca = parseCidr(a);
  const cb = parseCidr(b);
  return !!ca && !!cb && cidrsOverlap(ca, cb);
}
