/**
 * Waiting for a DRBD sync with progress (percent, rate, ETA), and the figures of a resync from
 * the hosts' kernel logs (how much was copied and why).
 */
import type { ProgressDTO } from '../contract/index.js';
import type { Side } from '../hosts/command.js';
import { bothSides, HostPair, other, err } from '../hosts/pair-exec.js';
import { sleep } from '../tasks/cancel.js';
import type { StepContext } from '../tasks/step.js';
import { lastResync, type ResyncFigures } from './kernel-log.js';
import { KiB, type MirrorContext, type MirrorStored, fmtMiB } from './mirror-record.js';
import { isInSync } from './status.js';

/**
 * Polls the source side's /proc/drbd every 0.5 s until both disks are UpToDate, reporting
 * percent, rate and ETA through ctx.progress (and the event log about once a second).
 */
export async function watchSync(
  svc: MirrorContext,
  ctx: StepContext<unknown>,
  pair: HostPair,
  rec: MirrorStored,
  what: string,
  budgetMs: number,
): Promise<{ seconds: number; totalKiB: number | null }> {
  const started = Date.now();
  let lastLog = 0;
  let totalKiB: number | null = null;
  let watch: Side = 'A';
  for (;;) {
    if (ctx.signal.aborted)
      throw err('cancelled', 'Cancelled by the user.', { fix: 'Run the same command again: the sync goes on by itself and is watched again.' });
    const views = await bothSides((s) => svc.observe(pair, rec, s, { assumeReachable: true }));
    const v = views.find((x) => x.side === watch)!;
    const s = v.status;
    if (views.every((x) => x.status && isInSync(x.status))) {
      ctx.progress({ fraction: 1, message: `${what}: done, UpToDate/UpToDate` });
      return { seconds: (Date.now() - started) / 1000, totalKiB };
    }
    if (s?.state === 'syncing') {
      if (s.direction === 'target') {
        watch = other(watch); // figures are the same on both sides; follow the source
      }
      totalKiB = s.totalKiB ?? totalKiB;
      const fraction = s.percent !== null ? Math.min(0.999, s.percent / 100) : null;
      const p: ProgressDTO = {
        fraction,
        message: `${what}: ${s.percent ?? '?'}%${s.rateKiBps !== null ? ` at ${fmtMiB(s.rateKiBps)}` : ''}${s.etaSeconds !== null ? `, ${s.etaSeconds} s left` : ''}${s.paused ? ' (paused)' : ''}`,
        ...(s.rateKiBps !== null ? { rate: s.rateKiBps * KiB, rateUnit: 'B/s' } : {}),
        ...(s.etaSeconds !== null ? { etaSeconds: s.etaSeconds } : {}),
      };
      ctx.progress(p);
      if (Date.now() - lastLog >= 1000) {
        lastLog = Date.now();
        svc.log('info', p.message, {
          data: { planId: ctx.planId, fraction, rateKiBps: s.rateKiBps, etaSeconds: s.etaSeconds, remainingKiB: s.remainingKiB, totalKiB: s.totalKiB },
        });
      }
    } else if (views.some((x) => x.status?.state === 'split-brain' || x.status?.state === 'standalone')) {
      throw err(
        'mirror-disconnected',
        `${what} stopped: the hosts are no longer connected (${views.map((x) => `${pair.name(x.side)} ${x.status?.state}`).join(', ')}).`,
        {
          fix: 'lockstep mirror status; a split brain is resolved with lockstep mirror resolve SURVIVOR',
          step: 'mirror-sync',
        },
      );
    }
    if (Date.now() - started > budgetMs)
      throw err('mirror-sync-slow', `${what} did not finish within ${Math.round(budgetMs / 1000)} s.`, {
        fix: 'It goes on in the background: watch it with lockstep mirror status, then run lockstep mirror setup again.',
        step: 'mirror-sync',
      });
    await sleep(500, ctx.signal);
  }
}

/** How many resyncs each host's kernel log shows as begun (to tell the next one from old ones). */
async function resyncCounts(pair: HostPair): Promise<Record<Side, number>> {
  const [a, b] = await bothSides(async (side) => Number((await pair.check(side, ['sh', '-c', 'dmesg | grep -ac "Began resync as" || true'])).trim()) || 0);
  return { A: a, B: b };
}

/** Remember where the kernel logs are, before something that may start a resync. */
export async function markResync(svc: MirrorContext, pair: HostPair): Promise<void> {
  const mark = await resyncCounts(pair);
  svc.patch((r) => (r.resyncMark = mark));
}

/**
 * After a resync: how much it copied and where the blocks came from (the survivor's bitmap =
 * written while apart; the returning host's = its activity log after a crash), from the kernel
 * logs. Only a resync begun after `markResync` counts. Returns the figures, or null.
 */
export async function recordResync(
  svc: MirrorContext,
  pair: HostPair,
  rec: MirrorStored,
  what: string,
  fallbackSeconds: number | null,
): Promise<(ResyncFigures & { seconds: number }) | null> {
  const mark = svc.stored()?.resyncMark;
  if (!mark) return null;
  const now = await resyncCounts(pair);
  svc.patch((r) => delete r.resyncMark);
  if (now.A <= mark.A && now.B <= mark.B) return null;
  const views = await bothSides((s) => svc.observe(pair, rec, s, { log: true, assumeReachable: true }));
  const figs = views.map((v) => lastResync(v.log, rec.minor));
  // the target's view knows its own bitmap (AL) and the source's; either has the union
  const f = figs.find((x) => x !== null && !/S(ource)?$/.test(x.as)) ?? figs.find((x) => x !== null);
  if (!f) return null;
  const seconds =
    f.beganAt !== null && f.doneAt !== null && f.doneAt >= f.beganAt ? Math.max(0.01, f.doneAt - f.beganAt) : (fallbackSeconds ?? f.doneSeconds ?? 0);
  const out = { ...f, seconds };
  svc.patch((r) => (r.lastResync = { ...out, at: Date.now() }));
  svc.log(
    'info',
    `${what} of ${rec.resource}: ${f.resyncKiB} KiB resynced in ${seconds.toFixed(2)} s (source's bitmap ${f.sourceBitmapKiB ?? '?'} KiB = changed while apart; target's own ${f.targetBitmapKiB ?? '?'} KiB = its activity-log extents or its own changes${f.alMarkedKiB ? `; ${f.alMarkedKiB} KiB marked from the AL at attach` : ''})`,
    {
      data: {
        resyncKiB: f.resyncKiB,
        sourceBitmapKiB: f.sourceBitmapKiB,
        targetBitmapKiB: f.targetBitmapKiB,
        alMarkedKiB: f.alMarkedKiB,
        seconds,
        drbdKiBps: f.doneKiBps,
      },
    },
  );
  return out;
}
