/** The steps of `link setup` (probe → apply → verify each), run by the task runner for LinkService. */

import type { LinkEndDTO } from '../contract/link.js';

import { RETRY_DROPPED, type PlanKind, type Step, type StepContext } from '../tasks/step.js';
import { assertSubnetFree, planSubnet, type LinkEnd } from './addressing.js';
import { describeCable } from './cable-probe.js';
import type { Side } from '../hosts/command.js';
import { surveyNics } from './nic-candidates.js';
import { linkRecord } from './persist.js';
import { bothSides, SIDES, err } from '../hosts/pair-exec.js';
import { type LinkUp, type LinkStored, type LinkSetupParams, type SideSurvey, linkedAsCandidates, DTO_PERSISTENCE, type LinkContext } from './link-record.js';
import { probeStep, restoreStep } from './cable-steps.js';
import { addressStep, mtuStep } from './address-steps.js';
import { measureStep } from './measure-step.js';
import { observeNics, linkEndsOf } from './observe.js';
import { persistStep } from './persist-steps.js';

export function setupKind(svc: LinkContext): PlanKind<LinkSetupParams> {
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

/** 1. Every NIC of both hosts: candidates for the cable, and why the others are not. Read-only. */
export function surveyStep(svc: LinkContext): Step<LinkSetupParams> {
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
export function subnetStep(svc: LinkContext): Step<LinkSetupParams> {
  const check = (ctx: StepContext<LinkSetupParams>) => {
    const p = ctx.params;
    const w = svc.work(ctx.planId);
    const names = svc.pair(p).names;
    const subnet = planSubnet(p.subnet);
    const st = svc.stored();
    // an overlapping subnet is refused first: moving the link there could never work, so no fix may suggest it
    const linkNics: Partial<Record<Side, string>> = {};
    for (const side of SIDES) if (w.survey![side].linked.length === 1) linkNics[side] = w.survey![side].linked[0]!.name;
    assertSubnetFree(subnet, { A: w.survey!.A.routes, B: w.survey!.B.routes }, { linkNics, names });
    if (st && st.record.subnet !== subnet.cidr && st.hosts.A === p.a && st.hosts.B === p.b)
      throw err('link-exists', `The link between ${names.A} and ${names.B} is already set up on ${st.record.subnet}.`, {
        fix: `To move it to ${subnet.cidr}: lockstep link remove, then lockstep link setup ${names.A} ${names.B} --subnet ${subnet.cidr}`,
        step: 'link-subnet',
      });
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

/** 9. Remember the link (the link record): what `link status` shows and what `link remove` undoes. */
export function recordStep(svc: LinkContext): Step<LinkSetupParams> {
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
      svc.remember(stored);
      const m = status.measured;
      svc.log(
        'info',
        `Link up: ${status.picture}, ${p.subnet}, MTU ${mtu}${m ? `, RTT p50 ${m.rttP50Ms} ms / p99 ${m.rttP99Ms} ms, ${m.mibPerSec === null ? 'throughput not measured' : `${m.mibPerSec} MiB/s (${m.tool})`}` : ''}`,
        { data: { link_rtt_p50_ms: m?.rttP50Ms, link_rtt_p99_ms: m?.rttP99Ms, link_mib_s: m?.mibPerSec, tool: m?.tool } },
      );
    },
    verify: async () => {
      if (!svc.stored())
        throw err('link-record', 'The link record was not stored.', {
          fix: 'Check that the app can write its data directory (`lockstep app info` names it), then run `lockstep link setup` again',
          step: 'link-record',
        });
    },
  };
}
