/** Setup steps that find the crossover cable (IPv6 neighbour discovery between the candidate NICs) and put the other NICs back as they were. */

import type { Step } from '../tasks/step.js';
import { type LinkEnd } from './addressing.js';
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
import type { HostCommand, Side } from '../hosts/command.js';
import {} from './measure.js';

import {} from './persist.js';
import { bothSides, pollUntil, SIDES, err } from '../hosts/pair-exec.js';
import { type LinkSetupParams, type LinkWork, type LinkContext } from './link-record.js';
import { observeNics } from './observe.js';

/** A link set up before (same hosts, same subnet, NICs still carrying its addresses): the cable is known. */
export function previousCable(svc: LinkContext, p: LinkSetupParams, w: LinkWork): { cable: CableMatch; priors: Record<Side, NicPriorState> } | null {
  const st = svc.stored();
  if (!st || st.hosts.A !== p.a || st.hosts.B !== p.b || st.record.subnet !== p.subnet) return null;
  const [ea, eb] = st.record.ends;
  const has = (side: Side, e: LinkEnd) => w.survey![side].linked.some((l) => l.mac === e.mac && l.address === e.address);
  if (!has('A', ea) || !has('B', eb)) return null;
  return { cable: { aNic: ea.nic, bNic: eb.nic, aMac: ea.mac, bMac: eb.mac, evidence: [] }, priors: { A: ea.prior, B: eb.prior } };
}

/** 3. Which NIC on A is cabled to which on B: IPv6 link-local neighbour discovery (the decoy answers nothing). */
export function probeStep(svc: LinkContext): Step<LinkSetupParams> {
  return {
    id: 'link-probe',
    title: 'Find the cable (IPv6 link-local neighbour discovery)',
    probe: async (ctx) => {
      const w = svc.work(ctx.planId);
      if (w.cable) return true;
      const prev = previousCable(svc, ctx.params, w);
      if (!prev) return false;
      w.cable = prev.cable;
      w.priors = { A: [prev.priors.A], B: [prev.priors.B] };
      w.heard = ['the NICs already carry the link addresses (a previous link setup)'];
      svc.saveWork(w);
      ctx.log(`Cable already known: ${describeCable(prev.cable, svc.pair(ctx.params).names)}`);
      return true;
    },
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const names = pair.names;
      const w = svc.work(ctx.planId);
      const survey = w.survey!;
      // what every candidate was like, saved before anything changes (restore needs it after a failure too)
      const priors: Record<Side, NicPriorState[]> = { A: [], B: [] };
      const prepare: HostCommand[] = [];
      const earlier = svc.stored()?.record.ends ?? [];
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
      svc.saveWork(w);
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
        svc.saveWork(w);
        ctx.log(`Cable found: ${describeCable(report.match, names)} (evidence: ${report.match.evidence.join(', ')}); heard: ${report.notes.join('; ')}`);
      } catch (e) {
        // nothing found: every NIC goes back to how it was before failing
        for (const side of SIDES) await pair.runAll(probeRestoreCommands(side, priors[side], null), 'link-probe');
        throw e;
      }
    },
    verify: async (ctx) => {
      if (!svc.work(ctx.planId).cable)
        throw err('link-cable-not-found', 'The cable probe ended without a result.', {
          fix: 'Check that a cable joins a free NIC of each host (link lights on, `ip link` shows LOWER_UP), then run `lockstep link setup` again',
          step: 'link-probe',
        });
    },
  };
}

/** 4. Every candidate that is not the cable goes back to how it was. */
export function restoreStep(svc: LinkContext): Step<LinkSetupParams> {
  const commands = (w: LinkWork): HostCommand[] =>
    SIDES.flatMap((side) => probeRestoreCommands(side, w.priors?.[side] ?? [], side === 'A' ? w.cable!.aNic : w.cable!.bNic));
  return {
    id: 'link-restore',
    title: 'Put the other NICs back as they were (the decoy is left alone)',
    probe: async (ctx) => commands(svc.work(ctx.planId)).length === 0,
    apply: async (ctx) => svc.pair(ctx.params).runAll(commands(svc.work(ctx.planId)), 'link-restore'),
    verify: async (ctx) => {
      const w = svc.work(ctx.planId);
      const pair = svc.pair(ctx.params);
      for (const side of SIDES) {
        const keep = side === 'A' ? w.cable!.aNic : w.cable!.bNic;
        const { links } = await observeNics(svc, pair, side);
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
