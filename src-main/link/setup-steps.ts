/** The steps of `link setup` (probe → apply → verify each), run by the task runner for LinkService. */

import { LockstepError } from '../contract/index.js';
import type { LinkEndDTO } from '../contract/link.js';

import { RETRY_DROPPED, type PlanKind, type Step, type StepContext } from '../tasks/step.js';
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
  type LinkEnd,
  type LinkSubnet,
} from './addressing.js';
import { describeCable, type NicPriorState } from './cable-probe.js';
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
import { parseIpAddrs, parseIpLinks, parseIpRoutes, surveyCommands, surveyNics, type IpAddr, type IpLink, type IpRoute } from './nic-candidates.js';
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
  type PersistPlan,
} from './persist.js';
import { bothSides, HostPair, other, pollUntil, readFileExact, SIDES, SECTION, err } from './remote.js';
import type { LinkService } from './link-service.js';
import {
  type LinkUp,
  type LinkStored,
  type LinkSetupParams,
  type SideSurvey,
  linkedAsCandidates,
  type LinkWork,
  LINK_KEY,
  WORK_KEY,
  DTO_PERSISTENCE,
} from './link-record.js';
import { probeStep, restoreStep } from './cable-steps.js';

export function setupKind(svc: LinkService): PlanKind<LinkSetupParams> {
  return {
    kind: 'link.setup',
    title: (p) => `Set up the replication link ${p.a} ⇄ ${p.b} (${p.subnet})`,
    // every step probes first: one whose SSH connection dropped is simply tried again
    retry: RETRY_DROPPED,
    steps: () => [
      surveyStep(svc),
      subnetStep(svc),
      probeStep(svc),
      restoreStep(svc),
      addressStep(svc),
      mtuStep(svc),
      persistStep(svc),
      measureStep(svc),
      recordStep(svc),
    ],
  };
}

/** The three `ip -j` listings of one host in one round trip (an exec costs ~150 ms on a UML host). */
export async function observeNics(svc: LinkService, pair: HostPair, side: Side): Promise<{ links: IpLink[]; addrs: IpAddr[]; routes: IpRoute[] }> {
  const c = surveyCommands();
  const script = `${c.link.join(' ')} && echo ${SECTION} && ${c.addr.join(' ')} && echo ${SECTION} && ${c.route.join(' ')}`;
  const out = await pair.check(side, ['sh', '-c', script], { step: 'link-survey' });
  const [link = '', addr = '', route = ''] = out.split(`${SECTION}\n`);
  return { links: parseIpLinks(link), addrs: parseIpAddrs(addr), routes: parseIpRoutes(route) };
}

/** 1. Every NIC of both hosts: candidates for the cable, and why the others are not. Read-only. */
export function surveyStep(svc: LinkService): Step<LinkSetupParams> {
  return {
    id: 'link-survey',
    title: 'Survey the NICs of both hosts',
    probe: async () => false,
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const w = svc.work(ctx.planId);
      const survey = {} as Record<Side, SideSurvey>;
      const observed = await bothSides((side) => observeNics(svc, pair, side));
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
      svc.saveWork(w);
    },
    verify: async (ctx) => {
      const w = svc.work(ctx.planId);
      const names = svc.pair(ctx.params).names;
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
export function subnetStep(svc: LinkService): Step<LinkSetupParams> {
  const check = (ctx: StepContext<LinkSetupParams>) => {
    const p = ctx.params;
    const w = svc.work(ctx.planId);
    const names = svc.pair(p).names;
    const subnet = planSubnet(p.subnet);
    const st = svc.stored();
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
      svc.saveWork(w);
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

export function linkEndsOf(svc: LinkService, p: LinkSetupParams, w: LinkWork): [LinkEnd, LinkEnd] {
  const subnet: LinkSubnet = planSubnet(p.subnet);
  const prior = (side: Side, nic: string): NicPriorState => {
    const found = w.priors?.[side]?.find((x) => x.name === nic);
    if (found) return found;
    const l = w.survey![side].links.find((x) => x.ifname === nic);
    return { name: nic, up: l?.flags.includes('UP') ?? false, mtu: l?.mtu ?? STANDARD_MTU, ipv6WasDisabled: false, addrGenModeWas: null };
  };
  return linkEnds(w.cable!, subnet, { A: prior('A', w.cable!.aNic), B: prior('B', w.cable!.bNic) });
}

export async function endState(svc: LinkService, pair: HostPair, e: LinkEnd): Promise<{ applied: boolean; mtu: number | null; maxMtu: number | null }> {
  const o = await observeNics(svc, pair, e.side);
  const l = o.links.find((x) => (x.address ?? '').toLowerCase() === e.mac);
  const mtu = l?.mtu ?? null;
  return { applied: mtu !== null && endApplied(e, mtu, o), mtu, maxMtu: typeof l?.max_mtu === 'number' && l.max_mtu > 0 ? l.max_mtu : null };
}

export async function pingPeer(svc: LinkService, pair: HostPair, peer: string, count = 3): Promise<boolean> {
  const r = await pair.exec('A', rttArgv(peer, { count, intervalS: 0.2 }), { timeoutMs: 20_000 });
  return /\b[1-9]\d* (?:packets )?received/.test(r.stdout);
}

/** 5. The /30 on both ends (`ip addr replace`: a rerun changes nothing). */
export function addressStep(svc: LinkService): Step<LinkSetupParams> {
  return {
    id: 'link-address',
    title: 'Address both ends of the cable',
    probe: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const ends = linkEndsOf(svc, ctx.params, svc.work(ctx.planId));
      for (const e of ends) if (!(await endState(svc, pair, e)).applied) return false;
      return pingPeer(svc, pair, planSubnet(ctx.params.subnet).b, 2);
    },
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      for (const e of linkEndsOf(svc, ctx.params, svc.work(ctx.planId))) {
        const { mtu } = await endState(svc, pair, e);
        await pair.runAll(applyCommands(e, mtu ?? e.prior.mtu), 'link-address');
      }
    },
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const subnet = planSubnet(ctx.params.subnet);
      const ok = await pollUntil(async () => ((await pingPeer(svc, pair, subnet.b, 2)) ? true : undefined), {
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
export function mtuStep(svc: LinkService): Step<LinkSetupParams> {
  const decide = async (ctx: StepContext<LinkSetupParams>, act: boolean): Promise<{ mtu: number; why: string } | null> => {
    const p = ctx.params;
    const pair = svc.pair(p);
    const w = svc.work(ctx.planId);
    const ends = linkEndsOf(svc, p, w);
    const peer = planSubnet(p.subnet).b;
    const states = [await endState(svc, pair, ends[0]), await endState(svc, pair, ends[1])];
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
      const w = svc.work(ctx.planId);
      w.mtu = d;
      svc.saveWork(w);
      ctx.log(`MTU ${d.mtu} already set: ${d.why}`);
      return true;
    },
    apply: async (ctx) => {
      const d = (await decide(ctx, true))!;
      const w = svc.work(ctx.planId);
      w.mtu = d;
      svc.saveWork(w);
      ctx.log(`MTU ${d.mtu}: ${d.why}`);
    },
    verify: async (ctx) => {
      const w = svc.work(ctx.planId);
      const pair = svc.pair(ctx.params);
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
export async function persistencePlans(svc: LinkService, p: LinkSetupParams, w: LinkWork): Promise<Record<Side, { plan: PersistPlan; why: string }>> {
  const pair = svc.pair(p);
  const ends = linkEndsOf(svc, p, w);
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
export function persistStep(svc: LinkService): Step<LinkSetupParams> {
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
      const w = svc.work(ctx.planId);
      w.persist = await persistencePlans(svc, ctx.params, w);
      svc.saveWork(w);
      return (await pending(svc.pair(ctx.params), w.persist)).length === 0;
    },
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const w = svc.work(ctx.planId);
      for (const todo of await pending(pair, w.persist!)) {
        for (const f of todo.files) await pair.run(writeFileCommand(todo.side, f), 'link-persist');
        await pair.runAll(todo.activate, 'link-persist');
        ctx.log(`${pair.name(todo.side)}: wrote ${todo.files.map((f) => f.path).join(', ')} (${w.persist![todo.side].why})`);
      }
    },
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const w = svc.work(ctx.planId);
      const left = await pending(pair, w.persist!);
      if (left.length)
        throw err('link-persist', `${left.map((l) => l.files.map((f) => `${pair.name(l.side)} ${f.path}`).join(', ')).join(', ')} not written as planned.`, {
          fix: 'Check the file system of the host (read-only? full?), then run `lockstep link setup` again.',
          step: 'link-persist',
        });
      // activating a network service may have re-applied the NIC: the link must still be there
      for (const e of linkEndsOf(svc, ctx.params, w))
        if (!(await endState(svc, pair, e)).applied)
          throw err('link-persist', `${pair.name(e.side)} ${e.nic} lost ${e.address} when its network service took over.`, {
            fix: 'Run `lockstep link setup` again; if it repeats, check the network configuration of that host.',
            host: pair.hosts[e.side].hostId,
            step: 'link-persist',
          });
    },
  };
}

/** 8. RTT p50/p99 (ping) and throughput (iperf3 where both have it, else a timed stream). */
export function measureStep(svc: LinkService): Step<LinkSetupParams> {
  return {
    id: 'link-measure',
    title: 'Measure the link: round trip (p50/p99) and throughput',
    probe: async () => false,
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const w = svc.work(ctx.planId);
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
        // a dropped connection is not a property of the link: the step is tried again
        if (e instanceof LockstepError && e.code === 'ssh-dropped') throw e;
        const why = e instanceof LockstepError ? `${e.message}${e.fix ? ` Fix: ${e.fix}` : ''}` : String(e);
        w.notes.push(`Throughput not measured: ${why}`);
      }
      const r3 = (x: number) => Math.round(x * 1000) / 1000;
      w.measured = { rttP50Ms: r3(rtt.p50Ms), rttP99Ms: r3(rtt.p99Ms), mibPerSec, tool };
      svc.saveWork(w);
      ctx.progress({
        fraction: 1,
        message: `RTT p50 ${r3(rtt.p50Ms)} ms, p99 ${r3(rtt.p99Ms)} ms; ${mibPerSec === null ? 'throughput not measured' : `${mibPerSec} MiB/s (${tool})`}`,
      });
    },
    verify: async (ctx) => {
      if (!svc.work(ctx.planId).measured)
        throw err('link-measure-failed', 'The link was not measured.', { fix: 'lockstep link setup again', step: 'link-measure' });
    },
  };
}

/** 9. Remember the link (store.kv 'link'): what `link status` shows and what `link remove` undoes. */
export function recordStep(svc: LinkService): Step<LinkSetupParams> {
  return {
    id: 'link-record',
    title: 'Remember the link',
    probe: async () => false,
    apply: async (ctx) => {
      const p = ctx.params;
      const pair = svc.pair(p);
      const w = svc.work(ctx.planId);
      const ends = linkEndsOf(svc, p, w);
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
      svc.deps.store.kv.set(LINK_KEY, stored);
      svc.deps.store.kv.delete(WORK_KEY);
      const m = status.measured;
      svc.deps.bus.log(
        'info',
        'link',
        `Link up: ${status.picture}, ${p.subnet}, MTU ${mtu}${m ? `, RTT p50 ${m.rttP50Ms} ms / p99 ${m.rttP99Ms} ms, ${m.mibPerSec === null ? 'throughput not measured' : `${m.mibPerSec} MiB/s (${m.tool})`}` : ''}`,
        { data: { link_rtt_p50_ms: m?.rttP50Ms, link_rtt_p99_ms: m?.rttP99Ms, link_mib_s: m?.mibPerSec, tool: m?.tool } },
      );
    },
    verify: async () => {
      if (!svc.stored()) throw err('link-record', 'The link record was not stored.', { fix: 'lockstep link setup again', step: 'link-record' });
    },
  };
}

// ── link.remove ─────────────────────────────────────────────────────────────────────
