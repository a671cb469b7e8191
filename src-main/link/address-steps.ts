/** Steps 5 and 6 of `link setup`: the addresses on both ends of the cable, then the MTU. */

import type { Step, StepContext } from '../tasks/step.js';
import {
  applyCommands,
  decideMtu,
  dfProbeArgv,
  JUMBO_MTU,
  jumboEligible,
  mtuFailureFix,
  parseDfProbe,
  planSubnet,
  setMtuCommand,
  STANDARD_MTU,
  type DfProbeResult,
  type LinkEnd,
} from './addressing.js';
import { pollUntil, err } from '../hosts/pair-exec.js';
import type { LinkSetupParams, LinkContext, LinkStored } from './link-record.js';
import { endState, linkEndsOf, pingPeer } from './observe.js';

/** 5. The /30 on both ends (`ip addr replace`: a rerun changes nothing). */
export function addressStep(svc: LinkContext): Step<LinkSetupParams> {
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

/** The ping on host A has no `-M do` (busybox's): the MTU cannot be proven, whatever it is. */
function noDfPing(host: string, mtu: number, probe: DfProbeResult, stderr: string) {
  return err('link-ping-no-df', `The ping on ${host} cannot send don't-fragment probes (no \`ping -M do\`), so the ${mtu}-byte MTU cannot be checked.`, {
    cause: stderr.trim().split('\n').slice(0, 2).join(' | ').slice(0, 200),
    fix: mtuFailureFix(mtu, probe, host),
    step: 'link-mtu',
  });
}

/** Why 1500 stays: the stored setup of the same hosts and NICs chose it (null when there is none). */
export function keptStandardMtu(stored: LinkStored | undefined, p: LinkSetupParams, ends: [LinkEnd, LinkEnd]): string | null {
  if (!stored || stored.hosts.A !== p.a || stored.hosts.B !== p.b || stored.record.mtu !== STANDARD_MTU) return null;
  if (stored.record.ends.some((e, i) => e.nic !== ends[i]!.nic)) return null;
  const why = stored.status.notes.find((n) => n.startsWith(`MTU ${STANDARD_MTU}: `));
  return `kept from the setup of ${new Date(stored.setupAt).toISOString()}${why ? ` (${why.slice(`MTU ${STANDARD_MTU}: `.length).replace(/\.$/, '')})` : ''}`;
}

/** 6. MTU 9000 where both NICs take it and a don't-fragment probe crosses, else 1500. */
export function mtuStep(svc: LinkContext): Step<LinkSetupParams> {
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
    const df = async (mtu: number) => {
      const r = await pair.exec('A', dfProbeArgv(peer, mtu), { timeoutMs: 15_000 });
      const probe = parseDfProbe(`${r.stdout}\n${r.stderr}`);
      if (probe.unsupported) throw noDfPing(pair.name('A'), mtu, probe, r.stderr);
      return probe;
    };
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
    // both NICs take jumbo frames, but the last finished setup of this very cable found that they do not
    // cross it (or was asked for 1500): 1500 is already so; trying 9000 again on every rerun would bounce
    // the MTU of a link that may be replicating (`--mtu 9000` asks for the try)
    const kept = keptStandardMtu(svc.stored(), p, ends);
    if (p.mtu === 'auto' && at(STANDARD_MTU) && kept) return { mtu: STANDARD_MTU, why: kept };
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
      const out = await pair.exec('A', dfProbeArgv(peer, w.mtu!.mtu), { timeoutMs: 15_000 });
      const r = parseDfProbe(`${out.stdout}\n${out.stderr}`);
      if (r.unsupported) throw noDfPing(pair.name('A'), w.mtu!.mtu, r, out.stderr);
      if (!r.ok)
        throw err('link-mtu', `A ${w.mtu!.mtu}-byte frame does not cross the cable unfragmented${r.error ? ` (${r.error})` : ''}.`, {
          fix: mtuFailureFix(w.mtu!.mtu, r, pair.name('A')),
          step: 'link-mtu',
        });
    },
  };
}
