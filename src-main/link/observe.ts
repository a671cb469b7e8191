/** What the setup steps read back from the hosts: the NICs, the two ends of the link and whether they hold. */

import { endApplied, linkEnds, planSubnet, STANDARD_MTU, type LinkEnd, type LinkSubnet } from './addressing.js';
import type { NicPriorState } from './cable-probe.js';
import type { Side } from '../hosts/command.js';
import { rttArgv } from './measure.js';
import { parseIpAddrs, parseIpLinks, parseIpRoutes, surveyCommands, type IpAddr, type IpLink, type IpRoute } from './nic-candidates.js';
import { err, HostPair, SECTION } from '../hosts/pair-exec.js';
import { installFixAnyDistro } from '../hosts/distro.js';
import { hostArgv } from '../hosts/host-command.js';
import { shellCommand } from '../hosts/shell-quote.js';
import type { LinkSetupParams, LinkWork, LinkContext } from './link-record.js';

/** The three `ip -j` listings of one host in one round trip (an exec costs ~150 ms on a UML host). */
export async function observeNics(svc: LinkContext, pair: HostPair, side: Side): Promise<{ links: IpLink[]; addrs: IpAddr[]; routes: IpRoute[] }> {
  const c = surveyCommands();
  // each listing through env, like every host command: a busybox sh would otherwise run its own `ip` (no -j)
  const line = (argv: string[]) => shellCommand(hostArgv(argv));
  const script = `${line(c.link)} && echo ${SECTION} && ${line(c.addr)} && echo ${SECTION} && ${line(c.route)}`;
  const r = await pair.exec(side, ['sh', '-c', script]);
  // an ip without JSON (busybox's) answers with its usage text: say that, not the usage
  if (r.code !== 0 && /invalid option|unrecognized option|BusyBox|^Usage:/im.test(`${r.stderr}\n${r.stdout}`))
    throw err('link-ip-no-json', `The ip on ${pair.name(side)} has no JSON output (\`ip -j\`): it is not iproute2's (busybox's ip, on a minimal userland).`, {
      cause: (r.stderr || r.stdout).trim().split('\n').slice(0, 2).join(' | ').slice(0, 200),
      fix: `Install iproute2 on ${pair.name(side)} (\`lockstep preflight\` names every other missing program): ${installFixAnyDistro(['ip'])}`,
      host: pair.hosts[side].hostId,
      step: 'link-survey',
    });
  if (r.code !== 0) throw pair.failure(side, ['sh', '-c', script], r, { step: 'link-survey' });
  const out = r.stdout;
  const [link = '', addr = '', route = ''] = out.split(`${SECTION}\n`);
  return { links: parseIpLinks(link), addrs: parseIpAddrs(addr), routes: parseIpRoutes(route) };
}

export function linkEndsOf(svc: LinkContext, p: LinkSetupParams, w: LinkWork): [LinkEnd, LinkEnd] {
  const subnet: LinkSubnet = planSubnet(p.subnet);
  const prior = (side: Side, nic: string): NicPriorState => {
    const found = w.priors?.[side]?.find((x) => x.name === nic);
    if (found) return found;
    const l = w.survey![side].links.find((x) => x.ifname === nic);
    return { name: nic, up: l?.flags.includes('UP') ?? false, mtu: l?.mtu ?? STANDARD_MTU, ipv6WasDisabled: false, addrGenModeWas: null };
  };
  return linkEnds(w.cable!, subnet, { A: prior('A', w.cable!.aNic), B: prior('B', w.cable!.bNic) });
}

export async function endState(svc: LinkContext, pair: HostPair, e: LinkEnd): Promise<{ applied: boolean; mtu: number | null; maxMtu: number | null }> {
  const o = await observeNics(svc, pair, e.side);
  const l = o.links.find((x) => (x.address ?? '').toLowerCase() === e.mac);
  const mtu = l?.mtu ?? null;
  return { applied: mtu !== null && endApplied(e, mtu, o), mtu, maxMtu: typeof l?.max_mtu === 'number' && l.max_mtu > 0 ? l.max_mtu : null };
}

export async function pingPeer(svc: LinkContext, pair: HostPair, peer: string, count = 3): Promise<boolean> {
  const r = await pair.exec('A', rttArgv(peer, { count, intervalS: 0.2 }), { timeoutMs: 20_000 });
  return /\b[1-9]\d* (?:packets )?received/.test(r.stdout);
}
