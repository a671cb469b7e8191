import { runLocal } from './local.js';

function toInt(a: string): number {
  return a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
}

/** Pure: do two IPv4 CIDRs overlap? */
export function cidrsOverlap(a: string, b: string): boolean {
  const [aa, al] = a.split('/');
  const [ba, bl] = b.split('/');
  const len = Math.min(Number(al ?? 32), Number(bl ?? 32));
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return (toInt(aa!) & mask) >>> 0 === (toInt(ba!) & mask) >>> 0;
}

/** Routes of this machine's namespace that overlap `cidr` (the default route excluded). */
export async function routesOverlapping(cidr: string): Promise<string[]> {
  const r = await runLocal(['ip', '-j', '-4', 'route', 'show', 'table', 'all']);
  if (r.code !== 0) return [];
  const routes = JSON.parse(r.stdout || '[]') as { dst: string; dev?: string; table?: string; type?: string }[];
  return routes
    .filter((x) => x.dst !== 'default' && (x.type === undefined || x.type === 'unicast') && (x.table === undefined || x.table === 'main'))
    .filter((x) => cidrsOverlap(x.dst.includes('/') ? x.dst : `${x.dst}/32`, cidr))
    .map((x) => `${x.dst} via ${x.dev ?? '?'}`);
}
