import { LockstepError } from '../contract/index.js';
import type { LockstepDeps } from './lockstep-service.js';
import type { LinkService } from '../link/link-service.js';

/** The crossover addresses: from the link setup, or (virtual lab only) its known cable. */
export async function crossoverAddresses(deps: LockstepDeps, aRef: string, bRef: string): Promise<{ xa: string; xb: string }> {
  const a = deps.hosts.resolve(aRef);
  const b = deps.hosts.resolve(bRef);
  const link = deps.link ? await deps.link.status().catch(() => null) : null;
  if (link?.state === 'up') {
    const addr = (host: string) => (link.a.host === host ? link.a.address : link.b.host === host ? link.b.address : null)?.split('/')[0];
    const xa = addr(a.hostId);
    const xb = addr(b.hostId);
    if (xa && xb) return { xa, xb };
  }
  const lab = await deps.lab.status();
  const la = lab.state === 'up' ? lab.hosts.find((h) => h.address === a.address && h.port === a.port) : undefined;
  const lb = lab.state === 'up' ? lab.hosts.find((h) => h.address === b.address && h.port === b.port) : undefined;
  if (!la || !lb)
    throw new LockstepError({
      code: 'no-link',
      message: 'There is no replication link between the two hosts yet.',
      fix: `lockstep link setup ${a.hostId} ${b.hostId}`,
    });
  // the virtual lab knows its own cable; real hosts go through `link setup`. Each host keeps one
  // address whatever its role (a protect with the roles reversed must not give both hosts .1)
  const nic = (h: typeof la) => h.nics.find((n) => n.role === 'crossover')!.name;
  const labHosts = lab.state === 'up' ? lab.hosts : [];
  const own = (h: typeof la) => (labHosts.indexOf(h) === 0 ? LAB_CROSSOVER[0] : LAB_CROSSOVER[1]);
  for (const [h, ref] of [
    [la, a],
    [lb, b],
  ] as const) {
    const s = await deps.hosts.session(ref);
    const shown = await s.check(['ip', '-4', '-o', 'addr', 'show', 'dev', nic(h)]);
    for (const stale of crossoverAddressesShown(shown).filter((x) => x !== own(h))) await s.check(['ip', 'addr', 'del', `${stale}/30`, 'dev', nic(h)]);
    await s.check(['ip', 'addr', 'replace', `${own(h)}/30`, 'dev', nic(h)]);
    await s.check(['ip', 'link', 'set', nic(h), 'up']);
  }
  deps.bus.log(
    'info',
    'lockstep',
    `Virtual lab: crossover ${la.name} ${nic(la)} ⇄ ${lb.name} ${nic(lb)} addressed 10.99.0.0/30 (run link setup to detect and measure it)`,
  );
  return { xa: own(la), xb: own(lb) };
}

/** The virtual lab's crossover: its first host's address, its second's. */
export const LAB_CROSSOVER = ['10.99.0.1', '10.99.0.2'] as const;

/** Pure: the lab crossover addresses in `ip -4 -o addr show dev NIC` output. */
export function crossoverAddressesShown(text: string): string[] {
  return [...text.matchAll(/\binet (10\.99\.0\.\d{1,3})\/\d+/g)].map((m) => m[1]!);
}

/** The replication link set up again as it was stored (a host back from a power cut lost its address); false: no link. */
export async function relink(link: LinkService | undefined): Promise<boolean> {
  const st = link?.stored();
  if (!st) return false;
  await link!.setup({ a: st.hosts.A, b: st.hosts.B, subnet: st.record.subnet, mtu: 'auto' });
  return true;
}
