/** Step 8 of `link setup`: round trip and throughput over the cable. */

import { LockstepError } from '../contract/index.js';
import type { ExecResult } from '../hosts/ssh-session.js';
import { installFixAnyDistro } from '../hosts/distro.js';
import type { Step } from '../tasks/step.js';
import { planSubnet } from './addressing.js';
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
import { pollUntil, err } from '../hosts/pair-exec.js';
import type { LinkSetupParams, LinkContext } from './link-record.js';

type Settled = { ok: true; r: ExecResult } | { ok: false; e: unknown };

/** A promise that never rejects: its outcome becomes a value. */
function settle(p: Promise<ExecResult>): Promise<Settled> {
  return p.then(
    (r): Settled => ({ ok: true, r }),
    (e: unknown): Settled => ({ ok: false, e }),
  );
}

function serverCause(s: Settled): string {
  if (!s.ok) return s.e instanceof Error ? s.e.message : String(s.e);
  return `exit ${s.r.code}: ${(s.r.stderr || s.r.stdout).trim().split('\n').slice(0, 3).join(' | ').slice(0, 300)}`;
}

/** 8. RTT p50/p99 (ping) and throughput (iperf3 where both have it, else a timed stream). */
export function measureStep(svc: LinkContext): Step<LinkSetupParams> {
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
        // the server runs while the client sends: its promise settles into a value right away (it can
        // never reject unobserved), and every path below waits for it before the step ends
        const server = settle(pair.exec('B', plan.server.argv, { timeoutMs: 60_000 }));
        try {
          const listening = await pollUntil(
            async () => {
              if (parseListening((await pair.exec('B', plan.ready.argv)).stdout)) return true;
              // a server that already ended will never listen: stop polling
              return (await Promise.race([server, Promise.resolve(null)])) !== null ? false : undefined;
            },
            { timeoutMs: 10_000, intervalMs: 200, signal: ctx.signal },
          );
          if (!listening) {
            const ended = await Promise.race([server, Promise.resolve(null)]);
            throw err('link-measure-failed', `The ${chosen.tool} server on ${pair.name('B')} did not start listening.`, {
              step: 'link-measure',
              fix: `Install iperf3 on both hosts (the figure then comes from iperf3): ${installFixAnyDistro(['iperf3'])}`,
              ...(ended ? { cause: serverCause(ended) } : {}),
            });
          }
          const client = await pair.exec('A', plan.client.argv, { timeoutMs: 60_000 });
          const tp = parseThroughput(plan, client);
          const figures = linkFigures(rtt, tp, chosen.tool);
          mibPerSec = figures.link_mib_s;
          tool = chosen.tool;
        } finally {
          // bounded by the server's own `timeout` (40 s) and the exec timeout (60 s)
          await server;
        }
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
        throw err('link-measure-failed', 'The link was not measured.', {
          fix: 'Check that the app can write its data directory (`lockstep app info` names it) and that both hosts answer SSH, then run `lockstep link setup` again',
          step: 'link-measure',
        });
    },
  };
}
