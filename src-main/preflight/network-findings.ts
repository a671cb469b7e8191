/** Pure: findings about the replication network: a free NIC for the crossover cable, the firewall in front of the replication ports, iperf3 to measure the link. */
import { installFix } from '../hosts/distro.js';
import type { HostFacts, NicFacts } from '../hosts/facts/facts.js';
import { DEFAULT_PORTS, q, sudoersFix, type Emit, type HostCheckOptions } from './findings-common.js';

/** NICs that could carry the crossover cable: link up, no address, not the default-route NIC, not in a bridge/bond. */
export function crossoverCandidates(facts: HostFacts): NicFacts[] {
  return facts.nics.filter(
    (n) => (n.kind === 'physical' || n.kind === 'veth') && n.name !== facts.defaultRouteDev && n.master === null && n.addresses.length === 0 && n.carrier,
  );
}

export function crossoverFinding(facts: HostFacts, { add, ok }: Emit): void {
  // crossover NIC
  const free = crossoverCandidates(facts);
  if (free.length > 0)
    ok('crossover-nic', `Free NIC with link for the crossover: ${free.map((n) => `${n.name}${n.speedMbps ? ` (${n.speedMbps} Mb/s)` : ''}`).join(', ')}`);
  else {
    const others = facts.nics.filter((n) => (n.kind === 'physical' || n.kind === 'veth') && n.name !== facts.defaultRouteDev && n.master === null);
    const down = others.filter((n) => !n.adminUp && n.addresses.length === 0);
    const addressed = others.filter((n) => n.carrier && n.addresses.length > 0);
    const seen = [
      ...down.map((n) => `${n.name} is down (its link is unknown until it is up)`),
      ...addressed.map((n) => `${n.name} has link but already carries ${n.addresses.join(', ')}`),
    ];
    add({
      id: 'crossover-nic',
      level: 'warn',
      what: 'No free NIC with link for the crossover cable',
      why: `DRBD and COLO replicate over a dedicated link (a direct cable) besides the default-route NIC${facts.defaultRouteDev ? ` ${facts.defaultRouteDev}` : ''}: a NIC with link, no address, in no bridge.${seen.length ? ` Seen: ${seen.join('; ')}.` : ''}`,
      fix:
        down.length > 0
          ? down.map((n) => `ip link set dev ${q(n.name)} up`).join(' && ')
          : 'Connect a cable between a free NIC on each host (no address, not in a bridge)',
    });
  }
}

export function firewallFinding(facts: HostFacts, opts: HostCheckOptions, { add, ok }: Emit): void {
  // firewall
  const ports = [...(opts.ports ?? DEFAULT_PORTS)].sort((x, y) => x.port - y.port);
  const portsText = ports.map((p) => `${p.what} ${p.port}`).join(', ');
  const fw = facts.firewall;
  if (ports.length === 0) ok('firewall', 'No replication ports to check');
  else if (fw.kind === 'nftables' && fw.nftInputChain) {
    const c = fw.nftInputChain;
    add({
      id: 'firewall',
      level: 'warn',
      what: `nftables filters input (chain ${c.family} ${c.table} ${c.chain}): allow the replication ports`,
      why: `The peer connects over TCP to ${portsText}. The command inserts an accept rule at the top of the chain now; add it to /etc/nftables.conf to keep it after a reboot.`,
      fix: `nft insert rule ${q(c.family)} ${q(c.table)} ${q(c.chain)} tcp dport ${q(`{ ${ports.map((p) => p.port).join(', ')} }`)} accept`,
    });
  } else if (fw.kind === 'iptables')
    add({
      id: 'firewall',
      level: 'warn',
      what: 'iptables filters input: allow the replication ports',
      why: `The peer connects over TCP to ${portsText}. The command inserts an accept rule now; save it (netfilter-persistent save) to keep it after a reboot.`,
      fix: `iptables -I INPUT -p tcp -m multiport --dports ${ports.map((p) => p.port).join(',')} -j ACCEPT`,
    });
  else if (fw.kind === 'unknown')
    add({
      id: 'firewall',
      level: 'warn',
      what: 'Could not read the firewall rules',
      why: `Listing nftables/iptables rules needs root. The peer connects over TCP to ${portsText}.`,
      fix: sudoersFix(facts.user, facts.os),
    });
  else ok('firewall', 'No firewall rules filter input');
}

export function iperf3Finding(facts: HostFacts, { add, ok }: Emit): void {
  if (facts.hasIperf3) ok('iperf3', 'iperf3 present: the crossover bandwidth is measured');
  else
    add({
      id: 'iperf3',
      level: 'warn',
      what: 'iperf3 is not installed',
      why: 'The crossover bandwidth cannot be measured (DRBD resync rate is sized from it).',
      fix: installFix(['iperf3'], facts.os),
    });
}
