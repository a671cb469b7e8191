/** The `mirror verify` and `mirror resolve` plans: online compare, and split-brain recovery by naming the survivor. */

import { type ProgressDTO } from '../contract/index.js';

import type { Side } from '../hosts/command.js';

import { bothSides, HostPair, other, err } from '../hosts/pair-exec.js';

import { sleep } from '../tasks/cancel.js';

import type { PlanKind, StepContext } from '../tasks/step.js';

import * as drbd from './drbd-commands.js';

import { isInSync } from './status.js';
import { RESOURCE, KiB, type MirrorContext, type MirrorStored, type View, type Configured, configured, fmtMiB } from './mirror-record.js';

import { markResync, recordResync, watchSync } from './resync-watch.js';

/** `drbdadm verify` from the primary side, watched until done; returns KiB found out of sync. */
export async function runVerify(svc: MirrorContext, ctx: StepContext<unknown>, pair: HostPair, rec: MirrorStored, step: string): Promise<number> {
  const views = await bothSides((s) => svc.observe(pair, rec, s));
  for (const v of views)
    if (!v.status || !isInSync(v.status))
      throw err(
        'mirror-not-in-sync',
        `Online verify needs both hosts connected and UpToDate; ${pair.name(v.side)} is ${v.status ? `${v.status.state}` : 'unreachable'}.`,
        {
          fix: 'lockstep mirror status (wait for a running sync; a split brain needs lockstep mirror resolve SURVIVOR)',
          step,
        },
      );
  const from: Side = (views[1]!.status as Configured).role === 'Primary' ? 'B' : 'A';
  const doneCount = async () => (await pair.check(from, ['sh', '-c', 'dmesg | grep -ac "Online verify done" || true'])).trim();
  const before = await doneCount();
  const t0 = Date.now();
  await pair.check(from, drbd.verify(rec.resource), { step, fix: 'verify needs verify-alg in the resource (lockstep mirror setup writes it)' });
  let lastLog = 0;
  for (;;) {
    const v = await svc.observe(pair, rec, from, { assumeReachable: true });
    const s = v.status;
    if (s?.state === 'verifying') {
      const p: ProgressDTO = {
        fraction: s.percent !== null ? Math.min(0.999, s.percent / 100) : null,
        message: `Online verify: ${s.percent ?? '?'}%${s.rateKiBps !== null ? ` at ${fmtMiB(s.rateKiBps)}` : ''}${s.etaSeconds !== null ? `, ${s.etaSeconds} s left` : ''}`,
        ...(s.rateKiBps !== null ? { rate: s.rateKiBps * KiB, rateUnit: 'B/s' } : {}),
        ...(s.etaSeconds !== null ? { etaSeconds: s.etaSeconds } : {}),
      };
      ctx.progress(p);
      if (Date.now() - lastLog > 1000) {
        lastLog = Date.now();
        svc.log('info', p.message, { data: { planId: ctx.planId, fraction: p.fraction } });
      }
    } else if ((await doneCount()) !== before) break;
    else if (!configured(s) || s.state === 'standalone' || s.state === 'split-brain' || s.state === 'disconnected')
      throw err('mirror-verify-failed', `Online verify stopped: ${pair.name(from)} is ${s?.state ?? 'down'}.`, {
        fix: 'lockstep mirror status, then lockstep mirror verify',
        step,
      });
    if (Date.now() - t0 > 600_000) throw err('mirror-verify-slow', 'Online verify did not finish within 10 minutes.', { fix: 'lockstep mirror status', step });
    await sleep(500, ctx.signal);
  }
  const after = await bothSides((s) => svc.observe(pair, rec, s, { assumeReachable: true }));
  const oos = Math.max(...after.map((v) => (configured(v.status) ? (v.status.outOfSyncKiB ?? 0) : 0)));
  const seconds = (Date.now() - t0) / 1000;
  svc.patch((r) => (r.lastVerify = { outOfSyncKiB: oos, seconds, at: Date.now() }));
  ctx.progress({ fraction: 1, message: `Online verify: ${oos} KiB out of sync` });
  svc.log(oos ? 'warn' : 'info', `Online verify of ${rec.resource}: ${oos} KiB out of sync (${seconds.toFixed(1)} s)`, {
    data: {
      outOfSyncKiB: oos,
      seconds,
      ...(oos ? { fix: `On either host: drbdadm disconnect ${rec.resource} && drbdadm connect ${rec.resource} (resyncs the blocks found)` } : {}),
    },
  });
  return oos;
}

export function verifyKind(svc: MirrorContext): PlanKind<{ hosts: Record<Side, string> }> {
  return {
    kind: 'mirror.verify',
    title: () => 'Compare both disks online (drbdadm verify)',
    steps: () => [
      {
        id: 'mirror-verify',
        title: 'Online verify: compare every block of both disks',
        probe: async () => false,
        apply: async (ctx) => {
          await runVerify(svc, ctx as StepContext<unknown>, svc.pair(ctx.params), svc.requireMirror(), 'mirror-verify');
        },
        verify: async () => {},
      },
    ],
  };
}

// ── mirror.resolve ──────────────────────────────────────────────────────────────────

export function resolveKind(svc: MirrorContext): PlanKind<{ hosts: Record<Side, string>; survivor: Side }> {
  const views = async (pair: HostPair, rec: MirrorStored) => bothSides((s) => svc.observe(pair, rec, s, { log: true }));
  const healthy = (vs: View[]) => vs.every((v) => v.status !== null && (isInSync(v.status) || v.status.state === 'syncing'));
  return {
    kind: 'mirror.resolve',
    title: (p) => `Resolve the split brain: keep ${p.survivor === 'A' ? p.hosts.A : p.hosts.B}'s data`,
    steps: (p) => {
      const victim = other(p.survivor);
      return [
        {
          id: 'mirror-sb-check',
          title: 'Check both hosts and the survivor’s copy',
          probe: async () => false,
          apply: async (ctx) => {
            const pair = svc.pair(ctx.params);
            const rec = svc.requireMirror();
            const vs = await views(pair, rec);
            for (const v of vs)
              if (!configured(v.status))
                throw err(
                  'mirror-not-up',
                  `${pair.name(v.side)} is ${v.status ? 'not running the mirror' : 'unreachable'}: both hosts are needed to resolve a split brain.`,
                  {
                    fix: v.status ? 'lockstep mirror setup' : `Power ${pair.name(v.side)} on, then: lockstep mirror resolve ${pair.name(p.survivor)}`,
                    step: 'mirror-sb-check',
                  },
                );
            const s = vs.find((v) => v.side === p.survivor)!.status as Configured;
            if (s.disk !== 'UpToDate')
              throw err('mirror-survivor-stale', `${pair.name(p.survivor)}'s copy is ${s.disk}: it cannot be the survivor.`, {
                fix: `lockstep mirror resolve ${pair.name(victim)}`,
                step: 'mirror-sb-check',
              });
            const split = vs.some((v) => v.status?.state === 'split-brain');
            ctx.log(
              split
                ? `Split brain: ${vs.map((v) => `${pair.name(v.side)} ${(v.status as Configured).role}, ${(v.status as Configured).outOfSyncKiB ?? '?'} KiB out of sync`).join('; ')}. Keeping ${pair.name(p.survivor)}'s data, discarding ${pair.name(victim)}'s changes.`
                : `No split brain in the kernel log (${vs.map((v) => `${pair.name(v.side)} ${v.status!.state}`).join(', ')}); reconnecting with ${pair.name(victim)} discarding its changes anyway.`,
              split ? 'info' : 'warn',
            );
          },
          verify: async () => {},
        },
        {
          id: 'mirror-sb-victim',
          title: 'The other host: secondary, reconnect discarding its changes (connect --discard-my-data)',
          probe: async (ctx) => healthy(await views(svc.pair(ctx.params), svc.requireMirror())),
          apply: async (ctx) => {
            const pair = svc.pair(ctx.params);
            const rec = svc.requireMirror();
            const v = (await svc.observe(pair, rec, victim)).status as Configured;
            if (v.role === 'Primary') {
              const r = await pair.exec(victim, drbd.secondary(rec.resource));
              if (r.code !== 0)
                throw pair.failure(victim, drbd.secondary(rec.resource), r, {
                  code: 'mirror-in-use',
                  why: `${pair.name(victim)} cannot give up the primary role`,
                  fix: `On ${pair.name(victim)}: stop what uses ${rec.device} (umount, stop the guest), then: lockstep mirror resolve ${pair.name(p.survivor)}`,
                  step: 'mirror-sb-victim',
                });
            }
            await markResync(svc, pair);
            if (v.state !== 'standalone' && v.state !== 'split-brain') await pair.exec(victim, drbd.disconnect(rec.resource));
            await pair.check(victim, drbd.connect(rec.resource, { discardMyData: true }), { step: 'mirror-sb-victim' });
            svc.log('warn', `${pair.name(victim)}: changes since the split are being discarded (connect --discard-my-data)`, {
              host: pair.hosts[victim].hostId,
            });
          },
          verify: async () => {},
        },
        {
          id: 'mirror-sb-survivor',
          title: 'The survivor: reconnect',
          probe: async (ctx) => {
            const pair = svc.pair(ctx.params);
            const s = (await svc.observe(pair, svc.requireMirror(), p.survivor)).status;
            return configured(s) && s.state !== 'standalone' && s.state !== 'split-brain';
          },
          apply: async (ctx) => {
            const pair = svc.pair(ctx.params);
            await pair.check(p.survivor, drbd.connect(svc.requireMirror().resource), { step: 'mirror-sb-survivor' });
          },
          verify: async () => {},
        },
        {
          id: 'mirror-sb-resync',
          title: 'Resync the other host from the survivor',
          probe: async () => false,
          apply: async (ctx) => {
            const pair = svc.pair(ctx.params);
            const rec = svc.requireMirror();
            const w = await watchSync(svc, ctx as StepContext<unknown>, pair, rec, `Resync ${pair.name(p.survivor)} → ${pair.name(victim)}`, 600_000);
            await recordResync(svc, pair, rec, 'Split-brain resync', w.seconds);
            const after = await views(pair, rec);
            const primary = after.find((v) => configured(v.status) && v.status.role === 'Primary');
            svc.patch((r) => (r.primary = primary?.side ?? null));
          },
          verify: async () => {},
        },
        {
          id: 'mirror-sb-verify',
          title: 'Verify both disks (drbdadm verify)',
          probe: async () => false,
          apply: async (ctx) => {
            const oos = await runVerify(svc, ctx as StepContext<unknown>, svc.pair(ctx.params), svc.requireMirror(), 'mirror-sb-verify');
            if (oos > 0)
              throw err('mirror-verify-differs', `After the resync, online verify still found ${oos} KiB out of sync.`, {
                fix: `On either host: drbdadm disconnect ${RESOURCE} && drbdadm connect ${RESOURCE}, then lockstep mirror verify`,
                step: 'mirror-sb-verify',
              });
          },
          verify: async () => {},
        },
      ];
    },
  };
}
