/** Step 6 of `mirror setup`: the initial sync (a full copy, or none for blank disks), or the resync of a returning host. */

import { bothSides, HostPair, pollUntil, err } from '../hosts/pair-exec.js';

import type { Step } from '../tasks/step.js';
import * as drbd from './drbd-commands.js';

import { isInSync } from './status.js';
import { type MirrorContext, type MirrorStored, type MirrorSetupParams, type Configured, fmtMiB } from './mirror-record.js';
import { markResync, recordResync, watchSync } from './resync-watch.js';

/** 6. The first full copy (A → B, with progress), or none for blank disks; a returning host resyncs incrementally here. */
export function syncStep(svc: MirrorContext): Step<MirrorSetupParams> {
  const inSync = async (pair: HostPair, rec: MirrorStored) =>
    (await bothSides((s) => svc.observe(pair, rec, s, { assumeReachable: true }))).every((v) => v.status !== null && isInSync(v.status));
  return {
    id: 'mirror-sync',
    title: 'Initial sync (percent, rate, time left) until both disks are UpToDate',
    probe: async (ctx) => {
      const pair = svc.pair(ctx.params);
      if (!(await inSync(pair, svc.stored()!))) return false;
      // a returning host may have finished its (incremental) resync already while connecting
      await recordResync(svc, pair, svc.stored()!, 'Resync', null);
      return true;
    },
    apply: async (ctx) => {
      const p = ctx.params;
      const pair = svc.pair(p);
      const rec = svc.stored()!;
      const [a, b] = await bothSides((s) => svc.observe(pair, rec, s, { assumeReachable: true }));
      const sa = a!.status as Configured;
      const sb = b!.status as Configured;
      const fresh = sa.disk === 'Inconsistent' && sb.disk === 'Inconsistent' && sa.state === 'connected';
      const sizeKiB = rec.sizeKiB ?? 0;
      if (fresh && p.blank) {
        const t0 = Date.now();
        await pair.check('A', drbd.newCurrentUuidClearBitmap(rec.resource), { step: 'mirror-sync' });
        await pollUntil(async () => ((await inSync(pair, rec)) ? true : undefined), { timeoutMs: 10_000, intervalMs: 200 });
        await pair.check('A', drbd.primary(rec.resource), { step: 'mirror-sync' });
        const seconds = (Date.now() - t0) / 1000;
        svc.patch((r) => {
          r.primary = 'A';
          r.initialSync = { mode: 'blank', kib: 0, seconds, mibPerSec: null, at: Date.now() };
        });
        ctx.progress({ fraction: 1, message: 'Both disks declared identical (blank): no full copy' });
        svc.log('info', `Blank disks declared identical in ${seconds.toFixed(2)} s (new-current-uuid --clear-bitmap): no initial copy`);
        return;
      }
      if (fresh) {
        // the first full copy: A's data becomes the good copy
        await markResync(svc, pair);
        await pair.check('A', drbd.primary(rec.resource, { force: true }), { step: 'mirror-sync' });
        svc.patch((r) => (r.primary = 'A'));
        const rateMiB = rec.resyncRateKiB / 1024;
        const w = await watchSync(
          svc,
          ctx,
          pair,
          rec,
          `Initial sync ${pair.name('A')} → ${pair.name('B')}`,
          Math.max(120_000, ((sizeKiB / 1024 / Math.max(1, rateMiB / 4)) * 1000) | 0),
        );
        const f = await recordResync(svc, pair, rec, 'Initial sync', w.seconds);
        const kib = f?.resyncKiB ?? w.totalKiB ?? sizeKiB;
        const seconds = f?.seconds ?? w.seconds;
        const mibPerSec = seconds > 0 ? kib / 1024 / seconds : null;
        svc.patch((r) => (r.initialSync = { mode: 'full', kib, seconds, mibPerSec, at: Date.now() }));
        svc.log(
          'info',
          `Initial sync of ${(kib / 1024).toFixed(0)} MiB in ${seconds.toFixed(2)} s${mibPerSec ? ` (${mibPerSec.toFixed(1)} MiB/s; resync rate set to ${fmtMiB(rec.resyncRateKiB)} from the link's ${rec.linkMiBps} MiB/s)` : ''}`,
          {
            data: {
              initial_sync_mib_s: mibPerSec,
              seconds,
              kib,
              resyncRateKiB: rec.resyncRateKiB,
              linkMiBps: rec.linkMiBps,
              sync_rate_over_link_ratio: mibPerSec !== null ? mibPerSec / rec.linkMiBps : null,
            },
          },
        );
        return;
      }
      // a host came back (or a resync is running): DRBD copies only what its bitmap marks
      const w = await watchSync(svc, ctx, pair, rec, 'Resync', 600_000);
      await recordResync(svc, pair, rec, 'Resync', w.seconds);
    },
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params);
      if (!(await inSync(pair, svc.stored()!)))
        throw err('mirror-not-in-sync', 'The disks are not both UpToDate.', {
          fix: 'lockstep mirror status; then lockstep mirror setup',
          step: 'mirror-sync',
        });
    },
  };
}
