/**
 * Pure: find which NIC on host A is cabled to which NIC on host B, with no addresses yet.
 *
 * IPv6 link-local neighbour discovery. Every candidate (see nic-candidates) is brought up
 * on both hosts; the kernel gives each one an fe80:: address (from its MAC with the eui64
 * address mode). From A, each candidate pings the all-nodes group `ff02::1%IFACE`: whoever
 * shares the wire answers. Two independent pieces of evidence name the far NIC:
 *   - the fe80:: addresses in ping's own output (matched against B's candidates' addresses),
 *   - the MACs in A's neighbour table for that NIC (matched against B's candidates' MACs).
 * The neighbour table alone is not enough: a host that already knows the pinger's MAC replies
 * without a neighbour solicitation, so the pinger learns nothing (seen for real; see the
 * fixtures), hence the caches are flushed on both hosts first and ping's output also counts.
 * Answers from anything that is not a candidate on B (the decoy's far end, a switch, A itself
 * through multicast loopback) are shown but ignored. Exactly one pair must remain.
 *
 * Order matters (both seen for real): bring the candidates up on BOTH hosts before polling
 * `linkLocalCheckArgv` (until the far end is up a NIC reports no carrier and gets no address),
 * and ping only once the address is no longer tentative (a tentative one hears nobody).
 *
 * A NIC without a link-local address: IPv6 disabled on it (`disable_ipv6` = 1) is enabled
 * for the probe with `sysctl -w` and put back afterwards; `addrgenmode none` (as
 * NetworkManager sets it) is switched to eui64 for the probe and put back. Without IPv6 in
 * the kernel at all (`ipv6.disable=1`), `pairTrialPlan` probes pair by pair with the link's
 * own /30 instead (slower: |A| × |B| trials).
 */
import { LockstepError } from '../contract/index.js';
import { NO_DEVICE, cmd, type Argv, type HostCommand, type Side } from '../hosts/command.js';
import { normalizeMac, parseIpJson, type IpAddr, type NicCandidate } from './nic-candidates.js';

/** What the probe needs to know of one candidate once it is up and has its link-local address. */
export interface ProbeNic {
  name: string;
  mac: string;
  linkLocal: string[];
  /** false when the NIC is up but sees no carrier (nothing plugged in, or the far end down) */
  carrier?: boolean;
}

export interface HostNames {
  A: string;
  B: string;
}

const DEFAULT_NAMES: HostNames = { A: 'host A', B: 'host B' };

// ── before the probe: what each candidate looked like, and bringing it up ──────────────

/** How a NIC was before the link code touched it: `link remove` puts exactly this back. */
export interface NicPriorState {
  name: string;
  up: boolean;
  mtu: number;
  /** IPv6 was disabled on it (we enabled it for the probe) */
  ipv6WasDisabled: boolean;
  /** its addrgenmode when we changed it (none) */
  addrGenModeWas: string | null;
}

export function priorStateOf(c: NicCandidate): NicPriorState {
  return { name: c.name, up: c.up, mtu: c.mtu, ipv6WasDisabled: false, addrGenModeWas: null };
}

/** Bring a candidate up and forget what its neighbour cache knew (run on both hosts). */
export function probePrepareCommands(side: Side, candidates: readonly NicCandidate[]): HostCommand[] {
  const out: HostCommand[] = [];
  for (const c of candidates) {
    if (!c.up) out.push(cmd(side, ['ip', 'link', 'set', 'dev', c.name, 'up'], `bring ${c.name} up for the cable probe`));
    out.push(cmd(side, ['ip', '-6', 'neigh', 'flush', 'dev', c.name], `forget ${c.name}'s cached neighbours`));
  }
  return out;
}

// ── waiting for the link-local address (duplicate address detection takes ~1–2 s) ──────

/** All addresses of the NIC, not `-6 … scope link`: that prints `[]` for a NIC without carrier, hiding why. */
export function linkLocalCheckArgv(nic: string): Argv {
  return ['ip', '-j', 'addr', 'show', 'dev', nic];
}

export type LinkLocalState =
  | { state: 'ready'; addresses: string[] }
  /** duplicate address detection still running: pinging now gets no answer (seen for real) */
  | { state: 'tentative' }
  | { state: 'dadfailed' }
  /** up, but nothing on the other end of the wire: the kernel adds no link-local address; no point waiting */
  | { state: 'no-carrier' }
  /** IPv6 disabled on the NIC, addrgenmode none, or the NIC is down */
  | { state: 'none' };

export function parseLinkLocalState(json: string): LinkLocalState {
  const entries = parseIpJson<IpAddr>(json, 'ip -j addr show dev IFACE', ['ifname']);
  if (entries.some((a) => a.flags?.includes('NO-CARRIER'))) return { state: 'no-carrier' };
  const info = entries.flatMap((a) => a.addr_info ?? []).filter((i) => i.family === 'inet6' && i.scope === 'link');
  if (info.length === 0) return { state: 'none' };
  const ready = info.filter((i) => !i.tentative && !i.dadfailed);
  if (ready.length) return { state: 'ready', addresses: ready.map((i) => i.local.toLowerCase()) };
  return info.some((i) => i.tentative) ? { state: 'tentative' } : { state: 'dadfailed' };
}

/** Reads whether IPv6 is disabled on a NIC (a missing file = no IPv6 in this kernel). */
export function ipv6DisabledArgv(nic: string): Argv {
  return ['cat', `/proc/sys/net/ipv6/conf/${nic}/disable_ipv6`];
}

export type Ipv6Status = 'enabled' | 'disabled' | 'unavailable';

export function parseIpv6Disabled(r: { code: number; stdout: string }): Ipv6Status {
  if (r.code !== 0) return 'unavailable';
  const v = r.stdout.trim();
  return v === '0' ? 'enabled' : v === '1' ? 'disabled' : 'unavailable';
}

function sysctlKey(nic: string): string {
  // a dot in the name (eth0.20) would read as a separator: use the slash form then
  return nic.includes('.') ? `net/ipv6/conf/${nic}/disable_ipv6` : `net.ipv6.conf.${nic}.disable_ipv6`;
}

/**
 * A candidate without a link-local address once up: what to run so it gets one, and what
 * to record in its prior state (so `ipv6Restore` can put it back). Throws when the kernel
 * has no IPv6 at all (then use `pairTrialPlan`).
 */
export function ipv6Enable(
  side: Side,
  nic: string,
  facts: { ipv6: Ipv6Status; addrGenMode: string | null },
  hostName: string = side,
): { apply: HostCommand[]; prior: Pick<NicPriorState, 'ipv6WasDisabled' | 'addrGenModeWas'> } {
  if (facts.ipv6 === 'unavailable') {
    throw new LockstepError({
      code: 'link-no-ipv6',
      message: `${hostName} has no IPv6 (the kernel was booted with ipv6.disable=1), so the cable cannot be found by neighbour discovery.`,
      fix: 'Probe pair by pair with IPv4 instead (slower), or remove ipv6.disable=1 from the kernel command line and reboot.',
      host: hostName,
      step: 'link-probe',
    });
  }
  const apply: HostCommand[] = [];
  if (facts.ipv6 === 'disabled') apply.push(cmd(side, ['sysctl', '-w', `${sysctlKey(nic)}=0`], `enable IPv6 on ${nic} for the probe`));
  if (facts.addrGenMode === 'none') {
    apply.push(
      cmd(side, ['ip', 'link', 'set', 'dev', nic, 'addrgenmode', 'eui64'], `let the kernel give ${nic} a link-local address`),
      cmd(side, ['ip', 'link', 'set', 'dev', nic, 'down'], `restart ${nic} so the address appears`),
      cmd(side, ['ip', 'link', 'set', 'dev', nic, 'up'], `restart ${nic} so the address appears`),
    );
  }
  return { apply, prior: { ipv6WasDisabled: facts.ipv6 === 'disabled', addrGenModeWas: facts.addrGenMode === 'none' ? 'none' : null } };
}

/** Undoes `ipv6Enable` on one NIC, in reverse order. */
export function ipv6Restore(side: Side, p: NicPriorState): HostCommand[] {
  const out: HostCommand[] = [];
  if (p.addrGenModeWas === 'none') {
    out.push(
      cmd(side, ['ip', 'link', 'set', 'dev', p.name, 'addrgenmode', 'none'], `put ${p.name}'s addrgenmode back to none`, NO_DEVICE),
      cmd(side, ['ip', '-6', 'addr', 'flush', 'dev', p.name, 'scope', 'link'], `remove the probe's link-local address from ${p.name}`, NO_DEVICE),
    );
  }
  if (p.ipv6WasDisabled)
    out.push(cmd(side, ['sysctl', '-w', `${sysctlKey(p.name)}=1`], `disable IPv6 on ${p.name} again, as it was`, 'cannot stat|No such file'));
  return out;
}

// ── the probe itself (from A) ──────────────────────────────────────────────────────────

/** Ping every node on the NIC's wire. Exit 1 (nobody answered) is an answer too, not a failure. */
export function probeArgv(nic: string): Argv {
  return ['ping', '-6', '-n', '-c', '2', '-W', '1', `ff02::1%${nic}`];
}

export function neighbourArgv(nic: string): Argv {
  return ['ip', '-j', '-6', 'neigh', 'show', 'dev', nic];
}

/** The fe80:: addresses that answered (iputils and busybox formats), lower-case, without the zone. */
export function parsePing6Responders(text: string): string[] {
  const seen = new Set<string>();
  for (const m of text.matchAll(/bytes from \[?(fe80:[0-9a-f:]+)(?:%[^\]:\s]+)?\]?:/gi)) seen.add(m[1]!.toLowerCase());
  return [...seen];
}

export interface IpNeigh {
  dst: string;
  lladdr?: string;
  state?: string[];
}

/** Usable neighbour entries: a link-local peer with a known MAC (not FAILED/INCOMPLETE, not multicast). */
export function parseNeighbours(json: string): { address: string; mac: string }[] {
  return parseIpJson<IpNeigh>(json, 'ip -j -6 neigh show dev IFACE', ['dst'])
    .filter((n) => n.lladdr && /^fe80:/i.test(n.dst) && !(n.state ?? []).some((s) => ['FAILED', 'INCOMPLETE', 'NOARP'].includes(s)))
    .map((n) => ({ address: n.dst.toLowerCase(), mac: normalizeMac(n.lladdr!) }));
}

export interface ProbeObservation {
  /** the NIC on A that pinged */
  aNic: string;
  /** stdout of `probeArgv(aNic)` */
  ping: string;
  /** stdout of `neighbourArgv(aNic)`, read right after */
  neigh: string;
}

export type Evidence = 'ping' | 'neighbour' | 'ipv4';

export interface CableMatch {
  aNic: string;
  bNic: string;
  aMac: string;
  bMac: string;
  evidence: Evidence[];
}

/** What each of A's NICs heard, for the picture and for the error text. */
export interface HeardOnNic {
  aNic: string;
  answers: { address?: string; mac?: string; bNic?: string }[];
  noCarrier?: boolean;
}

export interface ProbeReport {
  match: CableMatch;
  heard: HeardOnNic[];
  /** one line per A NIC: `eth1: 06:b6:… (not a candidate on host B, ignored)` */
  notes: string[];
}

function heardText(h: HeardOnNic, names: HostNames): string {
  if (h.answers.length === 0) return `${h.aNic}: nobody answered${h.noCarrier ? ' (no carrier: nothing plugged in, or the far NIC is down)' : ''}`;
  return `${h.aNic}: ${h.answers
    .map((a) => `${a.mac ?? a.address}${a.bNic ? ` = ${names.B} ${a.bNic}` : ` (not a candidate on ${names.B}, ignored)`}`)
    .join(', ')}`;
}

/** Pure: exactly one pair, or a LockstepError saying what was heard and how to fix it. */
export function decidePair(pairs: CableMatch[], heard: HeardOnNic[], names: HostNames): ProbeReport {
  const notes = heard.map((h) => heardText(h, names));
  if (pairs.length === 1) return { match: pairs[0]!, heard, notes };
  if (pairs.length === 0) {
    throw new LockstepError({
      code: 'link-cable-not-found',
      message: `No unaddressed NIC on ${names.A} reaches an unaddressed NIC on ${names.B}.`,
      cause: notes.join('; ') || `${names.A} has no candidate NIC`,
      fix: `Plug the crossover cable into a free NIC on each host (its link light comes on; \`ip link show\` then says LOWER_UP), then run \`lockstep link setup\` again.`,
      step: 'link-probe',
    });
  }
  throw new LockstepError({
    code: 'link-cable-ambiguous',
    message: `${pairs.length} NIC pairs reach each other (${pairs.map((p) => `${names.A} ${p.aNic} ⇄ ${names.B} ${p.bNic}`).join(', ')}); cannot tell which is the replication cable.`,
    cause: notes.join('; '),
    fix: 'Leave exactly one cable between the two unaddressed NICs (unplug the others, or put the other NICs on the switch they belong to), then run `lockstep link setup` again.',
    step: 'link-probe',
  });
}

/**
 * Pure: A's observations against B's candidates → the cable.
 * `a.nics` are A's candidates (their own link-local addresses are ignored as answers).
 */
export function matchCable(
  a: readonly ProbeNic[],
  b: readonly ProbeNic[],
  observations: readonly ProbeObservation[],
  names: HostNames = DEFAULT_NAMES,
): ProbeReport {
  const own = new Set(a.flatMap((n) => n.linkLocal.map((x) => x.toLowerCase())));
  const bByAddress = new Map(b.flatMap((n) => n.linkLocal.map((x) => [x.toLowerCase(), n] as const)));
  const bByMac = new Map(b.map((n) => [normalizeMac(n.mac), n]));
  const pairs: CableMatch[] = [];
  const heard: HeardOnNic[] = [];
  for (const o of observations) {
    const aNic = a.find((n) => n.name === o.aNic);
    if (!aNic) continue;
    const neigh = parseNeighbours(o.neigh);
    const answers = new Map<string, HeardOnNic['answers'][number]>();
    const found = new Map<string, Set<Evidence>>();
    const hit = (bn: ProbeNic, e: Evidence) => found.set(bn.name, (found.get(bn.name) ?? new Set()).add(e));
    for (const addr of parsePing6Responders(o.ping)) {
      if (own.has(addr)) continue;
      const bn = bByAddress.get(addr);
      if (bn) hit(bn, 'ping');
      const mac = neigh.find((n) => n.address === addr)?.mac;
      answers.set(addr, { address: addr, ...(mac ? { mac } : {}), ...(bn ? { bNic: bn.name } : {}) });
    }
    for (const n of neigh) {
      const bn = bByMac.get(n.mac);
      if (bn) hit(bn, 'neighbour');
      const prev = answers.get(n.address);
      answers.set(n.address, { ...prev, address: n.address, mac: n.mac, ...(bn ? { bNic: bn.name } : prev?.bNic ? { bNic: prev.bNic } : {}) });
    }
    heard.push({ aNic: o.aNic, answers: [...answers.values()], ...(aNic.carrier === false ? { noCarrier: true } : {}) });
    for (const [bName, ev] of found) {
      const bn = b.find((n) => n.name === bName)!;
      pairs.push({ aNic: aNic.name, bNic: bn.name, aMac: normalizeMac(aNic.mac), bMac: normalizeMac(bn.mac), evidence: [...ev].sort() });
    }
  }
  return decidePair(pairs, heard, names);
}

/** The picture for the wizard and the CLI: `hostA eth2 (02:11:…:02) ⇄ hostB eth1 (02:12:…:01)`. */
export function describeCable(m: CableMatch, names: HostNames = DEFAULT_NAMES): string {
  return `${names.A} ${m.aNic} (${m.aMac}) ⇄ ${names.B} ${m.bNic} (${m.bMac})`;
}

/**
 * After the probe: every candidate that is not the cable goes back to how it was
 * (IPv6 fixes undone, down again if it was down). The cable's own prior state is kept
 * in the link record instead, for `link remove`.
 */
export function probeRestoreCommands(side: Side, priors: readonly NicPriorState[], keep: string | null): HostCommand[] {
  const out: HostCommand[] = [];
  for (const p of priors) {
    if (p.name === keep) continue;
    out.push(...ipv6Restore(side, p));
    if (!p.up) out.push(cmd(side, ['ip', 'link', 'set', 'dev', p.name, 'down'], `${p.name} is not the cable: down again, as it was`, NO_DEVICE));
  }
  return out;
}

// ── fallback without IPv6 in the kernel: pair by pair with the link's /30 ──────────────

export interface PairTrial {
  aNic: string;
  bNic: string;
  setup: HostCommand[];
  /** run on A; exit 0 with a reply = this pair is the cable */
  probe: HostCommand;
  cleanup: HostCommand[];
}

/** Every (A NIC, B NIC) pair in turn: address both ends, ping, remove the addresses. */
export function pairTrialPlan(a: readonly string[], b: readonly string[], subnet: { a: string; b: string; prefixlen: number }): PairTrial[] {
  const trials: PairTrial[] = [];
  for (const an of a) {
    for (const bn of b) {
      trials.push({
        aNic: an,
        bNic: bn,
        setup: [
          cmd('A', ['ip', '-4', 'neigh', 'flush', 'dev', an], `forget ${an}'s cached neighbours`),
          cmd('A', ['ip', 'addr', 'add', `${subnet.a}/${subnet.prefixlen}`, 'dev', an], `try ${an}`),
          cmd('B', ['ip', 'addr', 'add', `${subnet.b}/${subnet.prefixlen}`, 'dev', bn], `try ${bn}`),
        ],
        probe: cmd('A', ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '1', '-I', an, subnet.b], `does ${an} reach ${bn}?`),
        cleanup: [
          cmd(
            'A',
            ['ip', 'addr', 'del', `${subnet.a}/${subnet.prefixlen}`, 'dev', an],
            `end the trial on ${an}`,
            `Address not found|Cannot assign|${NO_DEVICE}`,
          ),
          cmd(
            'B',
            ['ip', 'addr', 'del', `${subnet.b}/${subnet.prefixlen}`, 'dev', bn],
            `end the trial on ${bn}`,
            `Address not found|Cannot assign|${NO_DEVICE}`,
          ),
        ],
      });
    }
  }
  return trials;
}

/** Pure: the trials' outcomes (ping stdout of each) → the cable, with the same errors as `matchCable`. */
export function matchPairTrials(
  a: readonly ProbeNic[],
  b: readonly ProbeNic[],
  results: readonly { aNic: string; bNic: string; ping: string }[],
  names: HostNames = DEFAULT_NAMES,
): ProbeReport {
  const pairs: CableMatch[] = [];
  const heard: HeardOnNic[] = a.map((n) => ({ aNic: n.name, answers: [] }));
  for (const r of results) {
    if (!/\b[1-9]\d* (?:packets )?received/.test(r.ping)) continue;
    const an = a.find((n) => n.name === r.aNic);
    const bn = b.find((n) => n.name === r.bNic);
    if (!an || !bn) continue;
    pairs.push({ aNic: an.name, bNic: bn.name, aMac: normalizeMac(an.mac), bMac: normalizeMac(bn.mac), evidence: ['ipv4'] });
    heard.find((h) => h.aNic === an.name)?.answers.push({ mac: normalizeMac(bn.mac), bNic: bn.name });
  }
  return decidePair(pairs, heard, names);
}
