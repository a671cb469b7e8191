/**
 * A client of the guest watching one client-visible moment that the app causes on purpose (a
 * planned switchover or a re-protect's join in host maintenance): the drill's meter (an ordinary
 * client, a hedged poller and a TCP stream, in the lab's client namespace), read across the moment
 * the same way a drill reads across its fault.
 */
import type { ClientWatch } from '../contract/maintenance.js';
import type { DrillContext } from './drill-context.js';
import { analyseSamples } from './analyse.js';
import { startMeter } from './drill-runner.js';
import { streamFaultGap } from './figures.js';
import { gapAcross } from './moment-gap.js';

/** the meter never runs longer than this (a re-protect with a full copy under TCG takes a minute or two) */
const CAP_SECONDS = 600;

export async function watchClients(svc: DrillContext, address: string): Promise<ClientWatch> {
  const meter = await startMeter(svc, address, CAP_SECONDS);
  let fault = 0;
  let handled = 0;
  return {
    fault: () => void (fault = Date.now()),
    handled: () => void (handled = Date.now()),
    stop: async (afterMs) => {
      meter.endIn(afterMs);
      const m = await meter.done;
      const f = { at: (fault || Date.now()) - m.startedAt, handledAt: (handled || fault || Date.now()) - m.startedAt };
      const hedged = analyseSamples(m.samples ?? [], f);
      return {
        ordinaryClientMs: gapAcross(m.ordinary ?? [], f, Date.now() - m.startedAt),
        streamMs: streamFaultGap(m.stream.gaps, m.stream.longestGapMs, { ...f, actStart: null, actEnd: null }),
        streamSurvived: m.stream.survived,
        wentBackwards: hedged.wentBackwards || m.stream.wentBackwards,
      };
    },
  };
}
