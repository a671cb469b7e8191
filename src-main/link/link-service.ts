import type { EventBus } from '../app/event-bus.js';
import { LockstepError } from '../contract/index.js';
import type { LinkEndDTO, LinkStatus } from '../contract/link.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';
import type { PlanKind, Step, StepContext } from '../tasks/step.js';
import {
  applyCommands,
  assertSubnetFree,
  decideMtu,
  dfProbeArgv,
  endApplied,
  JUMBO_MTU,
  jumboEligible,
  linkEnds,
  parseDfProbe,
  planSubnet,
  setMtuCommand,
  STANDARD_MTU,
  undoCommands,
  type LinkEnd,
  type LinkSubnet,
} from './addressing.js';
import {
  describeCable,
  ipv6DisabledArgv,
  ipv6Enable,
  linkLocalCheckArgv,
  matchCable,
  neighbourArgv,
  parseIpv6Disabled,
  parseLinkLocalState,
  priorStateOf,
  probeArgv,
  probePrepareCommands,
  probeRestoreCommands,
  type CableMatch,
  type LinkLocalState,
  type NicPriorState,
  type ProbeNic,
  type ProbeObservation,
} from './cable-probe.js';
import type { HostCommand, Side } from './command.js';
import {
  chooseThroughputTool,
  linkFigures,
  parseListening,
  parseThroughput,
  parseToolPresence,
  rttArgv,
  summarizeRtt,
  throughputPlan,
  toolPresenceArgv,
  type RttSummary,
} from './measure.js';
import {
  parseIpAddrs,
  parseIpLinks,
  parseIpRoutes,
  surveyCommands,
  surveyNics,
  type IpAddr,
  type IpLink,
  type IpRoute,
  type NicCandidate,
  type NicSurvey,
} from './nic-candidates.js';
import {
  choosePersistence,
  existingFileAction,
  linkRecord,
  parseExisting,
  parseNmUnmanaged,
  parseUnitsActive,
  persistenceFactCommands,
  persistPlan,
  sourcesInterfacesD,
  writeFileCommand,
  type LinkRecord,
  type PersistenceKind,
  type PersistPlan,
} from './persist.js';
import { bothSides, HostPair, other, pollUntil, readFileExact, resolvePair, SIDES } from './remote.js';

export interface LinkDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
}

export type LinkUp = Extract<LinkStatus, { state: 'up' }>;

/** What `link setup` leaves in store.kv('link'): the status it showed, and everything `link remove` needs. */
export interface LinkStored {
  version: 1;
  /** host identities (address:port) of side A and B */
  hosts: Record<Side, string>;
  names: Record<Side, string>;
  record: LinkRecord;
  status: LinkUp;
  setupAt: number;
}

export interface LinkSetupParams {
  /** host identities, resolved when the plan started */
  a: string;
  b: string;
  subnet: string;
  mtu: 'auto' | '1500' | '9000';
}

/** One host's NICs as surveyed by this plan. */
interface SideSurvey extends NicSurvey {
  links: IpLink[];
  routes: IpRoute[];
}

/**
 * A NIC that already carries an address of the link subnet (this host kept its half of the link
 * while the other rebooted) takes part in the cable probe like a free NIC.
 */
function linkedAsCandidates(s: NicSurvey, links: readonly IpLink[], addrs: readonly IpAddr[]): NicCandidate[] {
  return s.linked.map((l) => {
    const link = links.find((x) => x.ifname === l.name);
    const up = link?.flags.includes('UP') ?? false;
    return {
      name: l.name,
      mac: l.mac,
      kind: link?.linkinfo?.info_kind ?? 'ethernet',
      up,
      carrier: up ? (link?.flags.includes('LOWER_UP') ?? null) : null,
      mtu: link?.mtu ?? STANDARD_MTU,
      maxMtu: typeof link?.max_mtu === 'number' && link.max_mtu > 0 ? link.max_mtu : null,
      linkLocal: (addrs.find((a) => a.ifname === l.name)?.addr_info ?? []).filter((i) => i.family === 'inet6' && i.scope === 'link').map((i) => i.local),
      addrGenMode: link?.inet6_addr_gen_mode ?? null,
    };
  });
}

/** The plan's working notes (store.kv 'link.work'), so a resumed plan continues where it was. */
interface LinkWork {
  planId: string;
  survey?: Record<Side, SideSurvey>;
  /** every candidate as it was before the probe touched it */
  priors?: Record<Side, NicPriorState[]>;
  cable?: CableMatch;
  heard?: string[];
  mtu?: { mtu: number; why: string };
  persist?: Record<Side, { plan: PersistPlan; why: string }>;
  measured?: LinkUp['measured'];
  notes: string[];
}

const LINK_KEY = 'link';
const WORK_KEY = 'link.work';
/** separates the listings of one batched survey */
const SECTION = '@@lockstep-section@@';

const DTO_PERSISTENCE: Record<PersistenceKind, LinkEndDTO['persistence']> = {
  'systemd-networkd': 'networkd',
  NetworkManager: 'networkmanager',
  ifupdown: 'ifupdown',
  none: 'none',
};

function err(code: string, message: string, o: { fix?: string; cause?: string; host?: string; step?: string } = {}): LockstepError {
  return new LockstepError({ code, message, ...o });
}

/** The crossover replication link: find the cable, address, MTU, persist, measure (wires src-main/link/* to SSH). */
export class LinkService {
  constructor(readonly deps: LinkDeps) {
    deps.runner.register(this.setupKind());
    deps.runner.register(this.removeKind());
  }

  /** The stored link (addresses, hosts, measured figures) for the mirror; undefined when there is none. */
  stored(): LinkStored | undefined {
    return this.deps.store.kv.get<LinkStored>(LINK_KEY);
  }

  async setup(i: { a: string; b: string; subnet: string; mtu: 'auto' | '1500' | '9000' }): Promise<LinkStatus> {
    const hosts = resolvePair(this.deps.hosts, i.a, i.b);
    const subnet = planSubnet(i.subnet); // a malformed subnet is refused before a plan starts
    const params: LinkSetupParams = { a: hosts.A.hostId, b: hosts.B.hostId, subnet: subnet.cidr, mtu: i.mtu };
    const plan = await this.deps.runner.run('link.setup', params);
    if (plan.state !== 'done') throw new LockstepError(plan.error ?? { code: 'link-setup-failed', message: 'The link setup did not finish.' });
    return this.stored()!.status;
  }

  async status(): Promise<LinkStatus> {
    const st = this.stored();
    if (!st) return { state: 'none' };
    const pair = new HostPair(this.deps.hosts, st.hosts);
    const again = `lockstep link setup ${st.names.A} ${st.names.B} --subnet ${st.record.subnet}`;
    for (const side of SIDES) {
      if (!(await pair.reachable(side)))
        return {
          state: 'broken',
          why: `${st.names[side]} does not answer SSH on its public address.`,
          fix: `Power ${st.names[side]} on (or check its network), then: lockstep link status`,
        };
      const end = st.record.ends.find((e) => e.side === side)!;
      const r = await pair.exec(side, ['ip', '-j', 'addr', 'show']);
      const addrs = r.code === 0 ? parseIpAddrs(r.stdout) : [];
      const nic = addrs.find((a) => (a.address ?? '').toLowerCase() === end.mac);
      const [ip] = end.address.split('/');
      if (!nic) return { state: 'broken', why: `${st.names[side]} no longer has the link NIC ${end.nic} (${end.mac}).`, fix: again };
      if (!nic.addr_info.some((x) => x.family === 'inet' && x.local === ip))
        return { state: 'broken', why: `${st.names[side]} ${nic.ifname} no longer carries ${end.address} (rebooted without persistence?).`, fix: again };
    }
    const peer = st.record.ends[1].address.split('/')[0]!;
    const ping = await pair.exec('A', rttArgv(peer, { count: 3, intervalS: 0.2 }));
    if (!/\b[1-9]\d* (?:packets )?received/.test(ping.stdout))
      return {
        state: 'broken',
        why: `${st.names.B} (${peer}) does not answer ${st.names.A} over the link.`,
        fix: `Check the cable between ${st.status.a.nic} and ${st.status.b.nic} (link lights), then: ${again}`,
      };
    return st.status;
  }

  async remove(): Promise<LinkStatus> {
    const st = this.stored();
    if (!st) {
      this.deps.bus.log('info', 'link', 'No replication link to remove.');
      return { state: 'none' };
    }
    if (this.deps.store.kv.get('mirror') !== undefined)
      this.deps.bus.log('warn', 'link', 'Removing the link under a configured DRBD mirror: replication stops until the link is set up again.');
    const plan = await this.deps.runner.run('link.remove', { hosts: st.hosts });
    if (plan.state !== 'done')
      throw new LockstepError(plan.error ?? { code: 'link-remove-failed', message: 'The link was not removed completely.', fix: 'lockstep link remove' });
    return { state: 'none' };
  }

  // ── link.setup ──────────────────────────────────────────────────────────────────────

  private work(planId: string): LinkWork {
    const w = this.deps.store.kv.get<LinkWork>(WORK_KEY);
    return w && w.planId === planId ? w : { planId, notes: [] };
  }

  private saveWork(w: LinkWork): void {
    this.deps.store.kv.set(WORK_KEY, w);
  }

  private pair(p: LinkSetupParams): HostPair {
    return new HostPair(this.deps.hosts, { A: p.a, B: p.b });
  }

  private setupKind(): PlanKind<LinkSetupParams> {
    return {
      kind: 'link.setup',
      title: (p) => `Set up the replication link ${p.a} ⇄ ${p.b} (${p.subnet})`,
      steps: () => [
        this.surveyStep(),
        this.subnetStep(),
        this.probeStep(),
        this.restoreStep(),
        this.addressStep(),
        this.mtuStep(),
        this.persistStep(),
        this.measureStep(),
        this.recordStep(),
      ],
    };
  }

  /** The three `ip -j` listings of one host in one round trip (an exec costs ~150 ms on a UML host). */
  private async observeNics(pair: HostPair, side: Side): Promise<{ links: IpLink[]; addrs: IpAddr[]; routes: IpRoute[] }> {
    const c = surveyCommands();
    const script = `${c.link.join(' ')} && echo ${SECTION} && ${c.addr.join(' ')} && echo ${SECTION} && ${c.route.join(' ')}`;
    const out = await pair.check(side, ['sh', '-c', script], { step: 'link-survey' });
    const [link = '', addr = '', route = ''] = out.split(`${SECTION}\n`);
    return { links: parseIpLinks(link), addrs: parseIpAddrs(addr), routes: parseIpRoutes(route) };
  }

  /** 1. Every NIC of both hosts: candidates for the cable, and why the others are not. Read-only. */
  private surveyStep(): Step<LinkSetupParams> {
    return {
      id: 'link-survey',
      title: 'Survey the NICs of both hosts',
      probe: async () => false,
      apply: async (ctx) => {
        const pair = this.pair(ctx.params);
        const w = this.work(ctx.planId);
        const survey = {} as Record<Side, SideSurvey>;
        const observed = await bothSides((side) => this.observeNics(pair, side));
        for (const side of SIDES) {
          const o = observed[side === 'A' ? 0 : 1]!;
          const found = surveyNics(o, { linkCidr: ctx.params.subnet });
          survey[side] = { ...found, candidates: [...found.candidates, ...linkedAsCandidates(found, o.links, o.addrs)], links: o.links, routes: o.routes };
          const s = survey[side];
          ctx.log(
            `${pair.name(side)}: candidates ${found.candidates.map((c) => c.name).join(', ') || 'none'}${s.linked.length ? `; already linked ${s.linked.map((l) => `${l.name} ${l.address}`).join(', ')}` : ''}; not the cable: ${s.excluded.map((e) => `${e.name} (${e.why})`).join('; ')}`,
          );
        }
        w.survey = survey;
        this.saveWork(w);
      },
      verify: async (ctx) => {
        const w = this.work(ctx.planId);
        const names = this.pair(ctx.params).names;
        for (const side of SIDES) {
          const s = w.survey![side];
          if (s.candidates.length === 0)
            throw err('link-no-candidate', `${names[side]} has no free NIC for the crossover cable.`, {
              cause: s.excluded.map((e) => `${e.name}: ${e.why}`).join('; '),
              fix: `Plug the crossover cable into a NIC of ${names[side]} that carries no address and no route (or remove the address from the NIC meant for it), then run \`lockstep link setup\` again.`,
              step: 'link-survey',
            });
        }
      },
    };
  }

  /** 2. Refuse a subnet that overlaps a route on either host — before anything is touched. */
  private subnetStep(): Step<LinkSetupParams> {
    const check = (ctx: StepContext<LinkSetupParams>) => {
      const p = ctx.params;
      const w = this.work(ctx.planId);
      const names = this.pair(p).names;
      const subnet = planSubnet(p.subnet);
      const st = this.stored();
      if (st && st.record.subnet !== subnet.cidr && st.hosts.A === p.a && st.hosts.B === p.b)
        throw err('link-exists', `The link between ${names.A} and ${names.B} is already set up on ${st.record.subnet}.`, {
          fix: `To move it to ${subnet.cidr}: lockstep link remove, then lockstep link setup ${names.A} ${names.B} --subnet ${subnet.cidr}`,
          step: 'link-subnet',
        });
      const linkNics: Partial<Record<Side, string>> = {};
      for (const side of SIDES) if (w.survey![side].linked.length === 1) linkNics[side] = w.survey![side].linked[0]!.name;
      assertSubnetFree(subnet, { A: w.survey!.A.routes, B: w.survey!.B.routes }, { linkNics, names });
      if (subnet.warning && !w.notes.includes(subnet.warning)) {
        w.notes.push(subnet.warning);
        this.saveWork(w);
      }
    };
    return {
      id: 'link-subnet',
      title: 'Check that the link subnet overlaps no route on either host',
      probe: async () => false,
      apply: async (ctx) => check(ctx),
      verify: async (ctx) => check(ctx),
    };
  }

  /** A link set up before (same hosts, same subnet, NICs still carrying its addresses): the cable is known. */
  private previousCable(p: LinkSetupParams, w: LinkWork): { cable: CableMatch; priors: Record<Side, NicPriorState> } | null {
    const st = this.stored();
    if (!st || st.hosts.A !== p.a || st.hosts.B !== p.b || st.record.subnet !== p.subnet) return null;
    const [ea, eb] = st.record.ends;
    const has = (side: Side, e: LinkEnd) => w.survey![side].linked.some((l) => l.mac === e.mac && l.address === e.address);
    if (!has('A', ea) || !has('B', eb)) return null;
    return { cable: { aNic: ea.nic, bNic: eb.nic, aMac: ea.mac, bMac: eb.mac, evidence: [] }, priors: { A: ea.prior, B: eb.prior } };
  }

  /** 3. Which NIC on A is cabled to which on B: IPv6 link-local neighbour discovery (the decoy answers nothing). */
  private probeStep(): Step<LinkSetupParams> {
    return {
      id: 'link-probe',
      title: 'Find the cable (IPv6 link-local neighbour discovery)',
      probe: async (ctx) => {
        const w = this.work(ctx.planId);
        if (w.cable) return true;
        const prev = this.previousCable(ctx.params, w);
        if (!prev) return false;
        w.cable = prev.cable;
        w.priors = { A: [prev.priors.A], B: [prev.priors.B] };
        w.heard = ['the NICs already carry the link addresses (a previous link setup)'];
        this.saveWork(w);
        ctx.log(`Cable already known: ${describeCable(prev.cable, this.pair(ctx.params).names)}`);
        return true;
      },
      apply: async (ctx) => {
        const pair = this.pair(ctx.params);
        const names = pair.names;
        const w = this.work(ctx.planId);
        const survey = w.survey!;
        // what every candidate was like, saved before anything changes (restore needs it after a failure too)
        const priors: Record<Side, NicPriorState[]> = { A: [], B: [] };
        const prepare: HostCommand[] = [];
        const earlier = this.stored()?.record.ends ?? [];
        for (const side of SIDES) {
          for (const c of survey[side].candidates) {
            // a NIC still carrying the link from an earlier setup: what it was before THAT setup
            const before = survey[side].linked.some((l) => l.name === c.name) ? earlier.find((e) => e.side === side && e.mac === c.mac)?.prior : undefined;
            const prior = before ? { ...before, name: c.name } : priorStateOf(c);
            // no link-local address: IPv6 may be off on it, or addrgenmode none (NetworkManager); fixed for the probe
            if (c.linkLocal.length === 0) {
              const ipv6 = parseIpv6Disabled(await pair.exec(side, ipv6DisabledArgv(c.name)));
              const en = ipv6Enable(side, c.name, { ipv6, addrGenMode: c.addrGenMode }, names[side]);
              Object.assign(prior, en.prior);
              prepare.push(...en.apply);
            }
            priors[side].push(prior);
          }
        }
        w.priors = priors;
        this.saveWork(w);
        // bring every candidate up on BOTH hosts before waiting for addresses (no carrier until the far end is up)
        for (const side of SIDES) prepare.push(...probePrepareCommands(side, survey[side].candidates));
        await pair.runAll(prepare, 'link-probe');

        // wait for every candidate's link-local address (DAD takes ~1–2 s); a NIC still without
        // carrier 3 s after both ends came up has nothing plugged in
        const t0 = Date.now();
        const states = new Map<string, LinkLocalState>();
        const key = (side: Side, nic: string) => `${side}/${nic}`;
        const settled = (st: LinkLocalState | undefined) =>
          st !== undefined && (st.state === 'ready' || st.state === 'dadfailed' || (st.state === 'no-carrier' && Date.now() - t0 > 3000));
        await pollUntil(
          async () => {
            await bothSides(async (side) => {
              for (const c of survey[side].candidates) {
                if (settled(states.get(key(side, c.name)))) continue;
                states.set(key(side, c.name), parseLinkLocalState(await pair.check(side, linkLocalCheckArgv(c.name), { step: 'link-probe' })));
              }
            });
            return SIDES.every((side) => survey[side].candidates.every((c) => settled(states.get(key(side, c.name))))) ? true : undefined;
          },
          { timeoutMs: 6000, intervalMs: 250, signal: ctx.signal },
        );
        const probeNics = {} as Record<Side, ProbeNic[]>;
        for (const side of SIDES) {
          probeNics[side] = survey[side].candidates.map((c) => {
            const last = states.get(key(side, c.name));
            return {
              name: c.name,
              mac: c.mac,
              linkLocal: last?.state === 'ready' ? last.addresses : [],
              ...(last?.state === 'no-carrier' ? { carrier: false } : {}),
            };
          });
        }
        const observations: ProbeObservation[] = [];
        for (const n of probeNics.A) {
          if (n.linkLocal.length === 0) {
            observations.push({ aNic: n.name, ping: '', neigh: '[]' });
            continue;
          }
          const ping = await pair.exec('A', probeArgv(n.name), { timeoutMs: 15_000 });
          const neigh = await pair.check('A', neighbourArgv(n.name), { step: 'link-probe' });
          observations.push({ aNic: n.name, ping: ping.stdout, neigh });
        }
        try {
          const report = matchCable(probeNics.A, probeNics.B, observations, names);
          w.cable = report.match;
          w.heard = report.notes;
          this.saveWork(w);
          ctx.log(`Cable found: ${describeCable(report.match, names)} (evidence: ${report.match.evidence.join(', ')}); heard: ${report.notes.join('; ')}`);
        } catch (e) {
          // nothing found: every NIC goes back to how it was before failing
          for (const side of SIDES) await pair.runAll(probeRestoreCommands(side, priors[side], null), 'link-probe');
          throw e;
        }
      },
      verify: async (ctx) => {
        if (!this.work(ctx.planId).cable)
          throw err('link-cable-not-found', 'The cable probe ended without a result.', { fix: 'lockstep link setup again', step: 'link-probe' });
      },
    };
  }

  /** 4. Every candidate that is not the cable goes back to how it was. */
  private restoreStep(): Step<LinkSetupParams> {
    const commands = (w: LinkWork): HostCommand[] =>
      SIDES.flatMap((side) => probeRestoreCommands(side, w.priors?.[side] ?? [], side === 'A' ? w.cable!.aNic : w.cable!.bNic));
    return {
      id: 'link-restore',
      title: 'Put the other NICs back as they were (the decoy is left alone)',
      probe: async (ctx) => commands(this.work(ctx.planId)).length === 0,
      apply: async (ctx) => this.pair(ctx.params).runAll(commands(this.work(ctx.planId)), 'link-restore'),
      verify: async (ctx) => {
        const w = this.work(ctx.planId);
        const pair = this.pair(ctx.params);
        for (const side of SIDES) {
          const keep = side === 'A' ? w.cable!.aNic : w.cable!.bNic;
          const { links } = await this.observeNics(pair, side);
          for (const p of w.priors?.[side] ?? []) {
            if (p.name === keep) continue;
            const l = links.find((x) => x.ifname === p.name);
            if (l && l.flags.includes('UP') !== p.up)
              throw err('link-restore', `${pair.name(side)} ${p.name} is not back ${p.up ? 'up' : 'down'} as it was.`, {
                fix: `ip link set dev ${p.name} ${p.up ? 'up' : 'down'}   (on ${pair.name(side)})`,
                host: pair.hosts[side].hostId,
                step: 'link-restore',
              });
          }
        }
      },
    };
  }

  private ends(p: LinkSetupParams, w: LinkWork): [LinkEnd, LinkEnd] {
    const subnet: LinkSubnet = planSubnet(p.subnet);
    const prior = (side: Side, nic: string): NicPriorState => {
      const found = w.priors?.[side]?.find((x) => x.name === nic);
      if (found) return found;
      const l = w.survey![side].links.find((x) => x.ifname === nic);
      return { name: nic, up: l?.flags.includes('UP') ?? false, mtu: l?.mtu ?? STANDARD_MTU, ipv6WasDisabled: false, addrGenModeWas: null };
    };
    return linkEnds(w.cable!, subnet, { A: prior('A', w.cable!.aNic), B: prior('B', w.cable!.bNic) });
  }

  private async endState(pair: HostPair, e: LinkEnd): Promise<{ applied: boolean; mtu: number | null; maxMtu: number | null }> {
    const o = await this.observeNics(pair, e.side);
    const l = o.links.find((x) => (x.address ?? '').toLowerCase() === e.mac);
    const mtu = l?.mtu ?? null;
    return { applied: mtu !== null && endApplied(e, mtu, o), mtu, maxMtu: typeof l?.max_mtu === 'number' && l.max_mtu > 0 ? l.max_mtu : null };
  }

  private async pingPeer(pair: HostPair, peer: string, count = 3): Promise<boolean> {
    const r = await pair.exec('A', rttArgv(peer, { count, intervalS: 0.2 }), { timeoutMs: 20_000 });
    return /\b[1-9]\d* (?:packets )?received/.test(r.stdout);
  }

  /** 5. The /30 on both ends (`ip addr replace`: a rerun changes nothing). */
  private addressStep(): Step<LinkSetupParams> {
    return {
      id: 'link-address',
      title: 'Address both ends of the cable',
      probe: async (ctx) => {
        const pair = this.pair(ctx.params);
        const ends = this.ends(ctx.params, this.work(ctx.planId));
        for (const e of ends) if (!(await this.endState(pair, e)).applied) return false;
        return this.pingPeer(pair, planSubnet(ctx.params.subnet).b, 2);
      },
      apply: async (ctx) => {
        const pair = this.pair(ctx.params);
        for (const e of this.ends(ctx.params, this.work(ctx.planId))) {
          const { mtu } = await this.endState(pair, e);
          await pair.runAll(applyCommands(e, mtu ?? e.prior.mtu), 'link-address');
        }
      },
      verify: async (ctx) => {
        const pair = this.pair(ctx.params);
        const subnet = planSubnet(ctx.params.subnet);
        const ok = await pollUntil(async () => ((await this.pingPeer(pair, subnet.b, 2)) ? true : undefined), {
          timeoutMs: 8000,
          intervalMs: 300,
          signal: ctx.signal,
        });
        if (!ok)
          throw err('link-unreachable', `${pair.name('B')} (${subnet.b}) does not answer ${pair.name('A')} (${subnet.a}) over the cable.`, {
            fix: 'Check that no firewall drops ICMP on the link NICs, then run `lockstep link setup` again.',
            step: 'link-address',
          });
      },
    };
  }

  /** 6. MTU 9000 where both NICs take it and a don't-fragment probe crosses, else 1500. */
  private mtuStep(): Step<LinkSetupParams> {
    const decide = async (ctx: StepContext<LinkSetupParams>, act: boolean): Promise<{ mtu: number; why: string } | null> => {
      const p = ctx.params;
      const pair = this.pair(p);
      const w = this.work(ctx.planId);
      const ends = this.ends(p, w);
      const peer = planSubnet(p.subnet).b;
      const states = [await this.endState(pair, ends[0]), await this.endState(pair, ends[1])];
      const at = (mtu: number) => states.every((s) => s.mtu === mtu);
      const setBoth = async (mtu: number) => {
        await pair.runAll(
          ends.map((e) => setMtuCommand(e, mtu)),
          'link-mtu',
        );
        states.forEach((s) => (s.mtu = mtu));
      };
      const df = async (mtu: number) => parseDfProbe((await pair.exec('A', dfProbeArgv(peer, mtu), { timeoutMs: 15_000 })).stdout);
      const eligibility = jumboEligible(
        { name: `${pair.name('A')} ${ends[0].nic}`, maxMtu: states[0]!.maxMtu },
        { name: `${pair.name('B')} ${ends[1].nic}`, maxMtu: states[1]!.maxMtu },
      );
      if (p.mtu === '1500' || (p.mtu === 'auto' && !eligibility.eligible)) {
        const why = p.mtu === '1500' ? 'MTU 1500 as asked' : eligibility.why;
        if (at(STANDARD_MTU)) return { mtu: STANDARD_MTU, why };
        if (!act) return null;
        await setBoth(STANDARD_MTU);
        return { mtu: STANDARD_MTU, why };
      }
      if (p.mtu === '9000' && !eligibility.eligible)
        throw err('link-mtu-unsupported', `MTU 9000 is not possible on this cable: ${eligibility.why}.`, {
          fix: 'lockstep link setup … --mtu auto (or --mtu 1500)',
          step: 'link-mtu',
        });
      // both NICs take jumbo frames: try them, keep them only if a full-size frame crosses unfragmented
      if (at(JUMBO_MTU)) {
        const probe = await df(JUMBO_MTU);
        if (probe.ok) return decideMtu(eligibility, probe);
      }
      if (!act) return null;
      await setBoth(JUMBO_MTU);
      const probe =
        (await pollUntil(
          async () => {
            const r = await df(JUMBO_MTU);
            return r.ok ? r : undefined;
          },
          { timeoutMs: 3000, intervalMs: 500 },
        )) ?? (await df(JUMBO_MTU));
      const d = decideMtu(eligibility, probe);
      if (d.mtu !== JUMBO_MTU) {
        if (p.mtu === '9000') {
          await setBoth(STANDARD_MTU);
          throw err('link-mtu-unsupported', `Jumbo frames do not cross the cable: ${d.why}.`, {
            fix: 'lockstep link setup … --mtu auto (or --mtu 1500)',
            step: 'link-mtu',
          });
        }
        await setBoth(STANDARD_MTU);
      }
      return d;
    };
    return {
      id: 'link-mtu',
      title: 'Choose the MTU (9000 if both NICs and a don’t-fragment probe allow it, else 1500)',
      probe: async (ctx) => {
        const d = await decide(ctx, false);
        if (!d) return false;
        const w = this.work(ctx.planId);
        w.mtu = d;
        this.saveWork(w);
        ctx.log(`MTU ${d.mtu} already set: ${d.why}`);
        return true;
      },
      apply: async (ctx) => {
        const d = (await decide(ctx, true))!;
        const w = this.work(ctx.planId);
        w.mtu = d;
        this.saveWork(w);
        ctx.log(`MTU ${d.mtu}: ${d.why}`);
      },
      verify: async (ctx) => {
        const w = this.work(ctx.planId);
        const pair = this.pair(ctx.params);
        const peer = planSubnet(ctx.params.subnet).b;
        const r = parseDfProbe((await pair.exec('A', dfProbeArgv(peer, w.mtu!.mtu), { timeoutMs: 15_000 })).stdout);
        if (!r.ok)
          throw err('link-mtu', `A ${w.mtu!.mtu}-byte frame does not cross the cable unfragmented${r.error ? ` (${r.error})` : ''}.`, {
            fix: 'lockstep link setup … --mtu 1500',
            step: 'link-mtu',
          });
      },
    };
  }

  /** What each host would need to keep the link after a reboot, from what it runs. Read-only. */
  private async persistencePlans(p: LinkSetupParams, w: LinkWork): Promise<Record<Side, { plan: PersistPlan; why: string }>> {
    const pair = this.pair(p);
    const ends = this.ends(p, w);
    const out = {} as Record<Side, { plan: PersistPlan; why: string }>;
    for (const side of SIDES) {
      const e = ends.find((x) => x.side === side)!;
      const far = ends.find((x) => x.side === other(side))!;
      const c = persistenceFactCommands(e.nic);
      const units = parseUnitsActive((await pair.exec(side, c.units)).stdout);
      const ifaces = await pair.exec(side, c.interfaces);
      const nmUnmanaged = units.networkManagerActive ? parseNmUnmanaged((await pair.exec(side, c.nmDevice)).stdout) : false;
      const choice = choosePersistence(
        { ...units, interfacesSourcesDir: ifaces.code === 0 && sourcesInterfacesD(ifaces.stdout), interfacesExists: ifaces.code === 0, nmUnmanaged },
        pair.name(side),
      );
      const plan = persistPlan(side, choice, {
        nic: e.nic,
        mac: e.mac,
        address: e.address,
        mtu: w.mtu!.mtu,
        peer: `${pair.name(other(side))} ${far.nic} ${far.address.split('/')[0]}`,
      });
      out[side] = { plan, why: choice.why };
    }
    return out;
  }

  /** 7. Make the link survive a reboot with what each host uses (or say that it will not). */
  private persistStep(): Step<LinkSetupParams> {
    const pending = async (pair: HostPair, plans: Record<Side, { plan: PersistPlan }>) => {
      const out: { side: Side; files: PersistPlan['files']; activate: HostCommand[] }[] = [];
      for (const side of SIDES) {
        const files = [];
        for (const f of plans[side].plan.files) {
          const existing = parseExisting(await readFileExact(pair, side, f.path));
          if (existingFileAction(existing, f, pair.name(side)) !== 'unchanged') files.push(f);
        }
        if (files.length) out.push({ side, files, activate: plans[side].plan.activate });
      }
      return out;
    };
    return {
      id: 'link-persist',
      title: 'Make the link survive a reboot (systemd-networkd, NetworkManager or ifupdown)',
      probe: async (ctx) => {
        const w = this.work(ctx.planId);
        w.persist = await this.persistencePlans(ctx.params, w);
        this.saveWork(w);
        return (await pending(this.pair(ctx.params), w.persist)).length === 0;
      },
      apply: async (ctx) => {
        const pair = this.pair(ctx.params);
        const w = this.work(ctx.planId);
        for (const todo of await pending(pair, w.persist!)) {
          for (const f of todo.files) await pair.run(writeFileCommand(todo.side, f), 'link-persist');
          await pair.runAll(todo.activate, 'link-persist');
          ctx.log(`${pair.name(todo.side)}: wrote ${todo.files.map((f) => f.path).join(', ')} (${w.persist![todo.side].why})`);
        }
      },
      verify: async (ctx) => {
        const pair = this.pair(ctx.params);
        const w = this.work(ctx.planId);
        const left = await pending(pair, w.persist!);
        if (left.length)
          throw err('link-persist', `${left.map((l) => l.files.map((f) => `${pair.name(l.side)} ${f.path}`).join(', ')).join(', ')} not written as planned.`, {
            fix: 'Check the file system of the host (read-only? full?), then run `lockstep link setup` again.',
            step: 'link-persist',
          });
        // activating a network service may have re-applied the NIC: the link must still be there
        for (const e of this.ends(ctx.params, w))
          if (!(await this.endState(pair, e)).applied)
            throw err('link-persist', `${pair.name(e.side)} ${e.nic} lost ${e.address} when its network service took over.`, {
              fix: 'Run `lockstep link setup` again; if it repeats, check the network configuration of that host.',
              host: pair.hosts[e.side].hostId,
              step: 'link-persist',
            });
      },
    };
  }

  /** 8. RTT p50/p99 (ping) and throughput (iperf3 where both have it, else a timed stream). */
  private measureStep(): Step<LinkSetupParams> {
    return {
      id: 'link-measure',
      title: 'Measure the link: round trip (p50/p99) and throughput',
      probe: async () => false,
      apply: async (ctx) => {
        const pair = this.pair(ctx.params);
        const w = this.work(ctx.planId);
        const subnet = planSubnet(ctx.params.subnet);
        const ping = await pair.exec('A', rttArgv(subnet.b, { count: 100, intervalS: 0.02 }), { timeoutMs: 30_000 });
        const rtt: RttSummary = summarizeRtt(ping.stdout, `${pair.name('B')} (${subnet.b})`);
        ctx.progress({ fraction: 0.3, message: `RTT p50 ${rtt.p50Ms} ms, p99 ${rtt.p99Ms} ms` });
        let mibPerSec: number | null = null;
        let tool = 'ping only';
        try {
          const chosen = chooseThroughputTool(
            parseToolPresence((await pair.exec('A', toolPresenceArgv())).stdout),
            parseToolPresence((await pair.exec('B', toolPresenceArgv())).stdout),
          );
          const plan = throughputPlan(chosen.tool, { a: subnet.a, b: subnet.b, seconds: 3, mib: 512, timeoutS: 40 });
          const server = pair.exec('B', plan.server.argv, { timeoutMs: 60_000 });
          const listening = await pollUntil(async () => (parseListening((await pair.exec('B', plan.ready.argv)).stdout) ? true : undefined), {
            timeoutMs: 10_000,
            intervalMs: 200,
            signal: ctx.signal,
          });
          if (!listening) throw err('link-measure-failed', `The ${chosen.tool} server on ${pair.name('B')} did not start listening.`, { step: 'link-measure' });
          const client = await pair.exec('A', plan.client.argv, { timeoutMs: 60_000 });
          await server.catch(() => undefined);
          const tp = parseThroughput(plan, client);
          const figures = linkFigures(rtt, tp, chosen.tool);
          mibPerSec = figures.link_mib_s;
          tool = chosen.tool;
        } catch (e) {
          const why = e instanceof LockstepError ? `${e.message}${e.fix ? ` Fix: ${e.fix}` : ''}` : String(e);
          w.notes.push(`Throughput not measured: ${why}`);
        }
        const r3 = (x: number) => Math.round(x * 1000) / 1000;
        w.measured = { rttP50Ms: r3(rtt.p50Ms), rttP99Ms: r3(rtt.p99Ms), mibPerSec, tool };
        this.saveWork(w);
        ctx.progress({
          fraction: 1,
          message: `RTT p50 ${r3(rtt.p50Ms)} ms, p99 ${r3(rtt.p99Ms)} ms; ${mibPerSec === null ? 'throughput not measured' : `${mibPerSec} MiB/s (${tool})`}`,
        });
      },
      verify: async (ctx) => {
        if (!this.work(ctx.planId).measured)
          throw err('link-measure-failed', 'The link was not measured.', { fix: 'lockstep link setup again', step: 'link-measure' });
      },
    };
  }

  /** 9. Remember the link (store.kv 'link'): what `link status` shows and what `link remove` undoes. */
  private recordStep(): Step<LinkSetupParams> {
    return {
      id: 'link-record',
      title: 'Remember the link',
      probe: async () => false,
      apply: async (ctx) => {
        const p = ctx.params;
        const pair = this.pair(p);
        const w = this.work(ctx.planId);
        const ends = this.ends(p, w);
        const mtu = w.mtu!.mtu;
        const plans = { A: w.persist!.A.plan, B: w.persist!.B.plan };
        const record = linkRecord(p.subnet, mtu, ends, plans);
        const notes = [...w.notes, `MTU ${mtu}: ${w.mtu!.why}.`];
        for (const side of SIDES) {
          const warning = plans[side].warning;
          if (warning) notes.push(warning);
          else notes.push(`${pair.name(side)}: persisted with ${plans[side].kind} (${w.persist![side].why}).`);
        }
        if (w.heard?.length) notes.push(`Cable probe heard: ${w.heard.join('; ')}.`);
        const dto = (e: LinkEnd): LinkEndDTO => ({
          host: pair.hosts[e.side].hostId,
          name: pair.name(e.side),
          nic: e.nic,
          mac: e.mac,
          address: e.address,
          mtu,
          persistence: DTO_PERSISTENCE[plans[e.side].kind],
        });
        const status: LinkUp = {
          state: 'up',
          a: dto(ends[0]),
          b: dto(ends[1]),
          subnet: p.subnet,
          mtu,
          picture: describeCable(w.cable!, pair.names),
          measured: w.measured ?? null,
          notes,
        };
        const stored: LinkStored = { version: 1, hosts: { A: p.a, B: p.b }, names: pair.names, record, status, setupAt: Date.now() };
        this.deps.store.kv.set(LINK_KEY, stored);
        this.deps.store.kv.delete(WORK_KEY);
        const m = status.measured;
        this.deps.bus.log(
          'info',
          'link',
          `Link up: ${status.picture}, ${p.subnet}, MTU ${mtu}${m ? `, RTT p50 ${m.rttP50Ms} ms / p99 ${m.rttP99Ms} ms, ${m.mibPerSec === null ? 'throughput not measured' : `${m.mibPerSec} MiB/s (${m.tool})`}` : ''}`,
          { data: { link_rtt_p50_ms: m?.rttP50Ms, link_rtt_p99_ms: m?.rttP99Ms, link_mib_s: m?.mibPerSec, tool: m?.tool } },
        );
      },
      verify: async () => {
        if (!this.stored()) throw err('link-record', 'The link record was not stored.', { fix: 'lockstep link setup again', step: 'link-record' });
      },
    };
  }

  // ── link.remove ─────────────────────────────────────────────────────────────────────

  private removeKind(): PlanKind<{ hosts: Record<Side, string> }> {
    const record = () => this.stored()?.record;
    const endsUndone = async (pair: HostPair, r: LinkRecord): Promise<LinkEnd[]> => {
      const left: LinkEnd[] = [];
      for (const e of r.ends) {
        const o = await this.observeNics(pair, e.side);
        const l = o.links.find((x) => (x.address ?? '').toLowerCase() === e.mac);
        if (!l) continue; // the NIC is gone: nothing of ours is left on it
        const [ip] = e.address.split('/');
        const addressed = (o.addrs.find((a) => a.ifname === l.ifname)?.addr_info ?? []).some((i) => i.family === 'inet' && i.local === ip);
        if (addressed || l.mtu !== e.prior.mtu || l.flags.includes('UP') !== e.prior.up) left.push(e);
      }
      return left;
    };
    const filesLeft = async (pair: HostPair, r: LinkRecord) => {
      const left: string[] = [];
      for (const p of r.persisted)
        for (const path of p.paths) if (parseExisting(await readFileExact(pair, p.side, path)) !== null) left.push(`${pair.name(p.side)} ${path}`);
      return left;
    };
    return {
      kind: 'link.remove',
      title: () => 'Remove the replication link',
      steps: (params) => {
        const pair = () => new HostPair(this.deps.hosts, params.hosts);
        return [
          {
            id: 'link-unpersist',
            title: 'Delete the network files link setup wrote',
            probe: async () => {
              const r = record();
              return !r || (await filesLeft(pair(), r)).length === 0;
            },
            apply: async () => {
              const r = record()!;
              await pair().runAll(
                r.persisted.flatMap((p) => p.remove),
                'link-unpersist',
              );
            },
            verify: async () => {
              const left = await filesLeft(pair(), record()!);
              if (left.length) throw err('link-unpersist', `Still there: ${left.join(', ')}.`, { fix: 'lockstep link remove', step: 'link-unpersist' });
            },
          },
          {
            id: 'link-unaddress',
            title: 'Take the addresses off and put both NICs back as they were',
            probe: async () => {
              const r = record();
              return !r || (await endsUndone(pair(), r)).length === 0;
            },
            apply: async () => {
              const r = record()!;
              const p = pair();
              for (const e of await endsUndone(p, r)) await p.runAll(undoCommands(e), 'link-unaddress');
            },
            verify: async () => {
              const p = pair();
              const left = await endsUndone(p, record()!);
              if (left.length)
                throw err('link-unaddress', `${left.map((e) => `${p.name(e.side)} ${e.nic}`).join(', ')} not back as before.`, {
                  fix: 'lockstep link remove',
                  step: 'link-unaddress',
                });
            },
          },
          {
            id: 'link-forget',
            title: 'Forget the link',
            probe: async () => this.stored() === undefined,
            apply: async () => {
              const st = this.stored()!;
              this.deps.store.kv.delete(LINK_KEY);
              this.deps.bus.log('info', 'link', `Link removed: ${st.status.picture} (${st.record.subnet})`);
            },
            verify: async () => {},
          },
        ];
      },
    };
  }
}
