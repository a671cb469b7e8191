import { cidrTextsOverlap } from '../net/ipv4.js';
import { runLocal } from '../hosts/local-exec.js';

/** Routes of this machine's namespace that overlap `cidr` (the default route excluded). */
export async function routesOverlapping(cidr: string): Promise<string[]> {
  const r = await runLocal(['ip', '-j', '-4', 'route', 'show', 'table', 'all']);
  if (r.code !== 0) return [];
  const routes = JSON.parse(r.stdout || '[]') as { dst: string; dev?: string; table?: string; type?: string }[];
  return routes
    .filter((x) => x.dst !== 'default' && (x.type === undefined || x.type === 'unicast') && (x.table === undefined || x.table === 'main'))
    .filter((x) => cidrTextsOverlap(x.dst, cidr))
    .map((x) => `${x.dst} via ${x.dev ?? '?'}`);
}
