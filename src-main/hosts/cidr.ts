/** Pure IPv4 helpers for discovery. */
export function ipToInt(a: string): number {
  const p = a.split('.').map(Number);
  if (p.length !== 4 || p.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error(`not an IPv4 address: ${a}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): { base: number; bits: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const bits = Number(m[2]);
  if (bits > 32) throw new Error(`bad prefix length in ${cidr}`);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (ipToInt(m[1]!) & mask) >>> 0, bits };
}

/** Host addresses of a CIDR (no network/broadcast for /30 and wider). `maxBits` caps the size: a /16 asked with cap 24 throws. */
export function hostsOf(cidr: string, minPrefix = 16): string[] {
  const { base, bits } = parseCidr(cidr);
  if (bits < minPrefix) throw new Error(`${cidr} is wider than /${minPrefix}`);
  const size = 2 ** (32 - bits);
  if (size <= 2) return Array.from({ length: size }, (_, i) => intToIp(base + i));
  return Array.from({ length: size - 2 }, (_, i) => intToIp(base + 1 + i));
}

/** A local interface address → the subnet to scan, capped at /24 around the address. */
export function scanCidrFor(address: string, prefixLen: number): string {
  const bits = Math.max(prefixLen, 24);
  const mask = (~0 << (32 - bits)) >>> 0;
  return `${intToIp((ipToInt(address) & mask) >>> 0)}/${bits}`;
}
