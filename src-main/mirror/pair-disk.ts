/**
 * The mirror under the lockstep pair (lockstep/disk-layer.ts declares what the pair asks; the core
 * hands this in). DRBD holds the guest's disk on both hosts: connected while the disks are made
 * identical, dual-primary only while the secondary's QEMU opens its side, disconnected in lockstep
 * (each bitmap records its side's writes), joined again after a failover by discarding the
 * returned side's changes: DRBD then resyncs only the blocks written on either side since the split.
 */
import type { DiskResync, HostDTO } from '../contract/index.js';
import type { Side } from '../hosts/command.js';
import { bothSides, err, other, pollUntil, type HostPair } from '../hosts/pair-exec.js';
import type { StepContext } from '../tasks/step.js';
import * as drbd from './drbd-commands.js';
import { configured, KiB, type Configured, type MirrorContext, type MirrorStored, type View } from './mirror-record.js';
import { markResync, recordResync, watchSync } from './resync-watch.js';
import { isInSync } from './status.js';
import { runVerify } from './verify-steps.js';

export interface PairDiskOps {
  forPair(a: HostDTO, b: HostDTO): { resource: string; device: string } | null;
  join(keep: HostDTO, w: Omit<StepContext<unknown>, 'params'>, o?: { verify?: boolean }): Promise<DiskResync | null>;
  openOn(h: HostDTO): Promise<void>;
  split(): Promise<void>;
  seeded(): boolean;
  markSeeded(): void;
}

/** how long a host the pair needs may take to show its SSH banner before it counts as not answering */
const PATIENT_REACH_MS = 10_000;

const twoPrimaries = (name: string, yes: boolean) => ['drbdadm', 'net-options', `--allow-two-primaries=${yes ? 'yes' : 'no'}`, name];

export function pairDisk(svc: MirrorContext): PairDiskOps {
  const ctx = () => {
    const rec = svc.requireMirror();
    return { rec, pair: svc.pair({ hosts: rec.hosts }) };
  };
  const sideOf = (pair: HostPair, h: HostDTO): Side => {
    const s = pair.sideOf(h.hostId);
    if (!s) throw err('mirror-other-hosts', `The mirror joins ${pair.names.A} and ${pair.names.B}, not ${h.name}.`, { fix: 'lockstep mirror status' });
    return s;
  };
  const view = (pair: HostPair, rec: MirrorStored, side: Side, log = false) => svc.observe(pair, rec, side, { log });
  const setSplit = (split: boolean) => svc.patch((r) => (r.underPair = { seeded: r.underPair?.seeded ?? false, split }));

  /** A host back from a power-off has the module unloaded and the resource down: up again, not connecting yet. */
  async function bringUp(pair: HostPair, rec: MirrorStored, v: View): Promise<View> {
    // a host busy with I/O (a resync, a guest under TCG) can miss the quick 2 s check: ask once more, patiently
    if (v.status === null) v = await svc.observe(pair, rec, v.side, { log: true, reachableWithinMs: PATIENT_REACH_MS });
    if (v.status === null)
      throw err('host-unreachable', `${pair.name(v.side)} does not answer SSH: the mirror needs both hosts to join.`, {
        fix: `Power ${pair.name(v.side)} on, then run the same command again.`,
        host: pair.hosts[v.side].hostId,
      });
    if (configured(v.status)) return v;
    await pair.check(v.side, drbd.modprobeDrbd(), { step: 'mirror-join' });
    await pair.check(v.side, drbd.up(rec.resource), { step: 'mirror-join', fix: 'lockstep mirror status' });
    return view(pair, rec, v.side);
  }

  async function promote(pair: HostPair, rec: MirrorStored, side: Side): Promise<void> {
    const r = await pollUntil(
      async () => {
        const x = await pair.exec(side, drbd.primary(rec.resource));
        return x.code === 0 ? x : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 500 },
    );
    if (!r)
      throw err('mirror-promote-failed', `${pair.name(side)} could not become DRBD primary of ${rec.resource}.`, {
        fix: 'lockstep mirror status (is the other side primary and connected without dual-primary?)',
        host: pair.hosts[side].hostId,
      });
  }

  return {
    forPair(a, b) {
      const rec = svc.stored();
      if (!rec || !rec.complete) return null;
      const pair = svc.pair({ hosts: rec.hosts });
      const sides = [pair.sideOf(a.hostId), pair.sideOf(b.hostId)];
      if (!sides.includes('A') || !sides.includes('B')) return null;
      return { resource: rec.resource, device: rec.device };
    },

    async join(keep, w, opts = {}) {
      const { rec, pair } = ctx();
      const k = sideOf(pair, keep);
      const o = other(k);
      let [vk, vo] = await Promise.all([view(pair, rec, k, true), view(pair, rec, o, true)]);
      vk = await bringUp(pair, rec, vk);
      vo = await bringUp(pair, rec, vo);
      const sk = vk.status as Configured;
      const so = vo.status as Configured;
      if (sk.disk !== 'UpToDate' && !(isInSync(sk) || sk.state === 'syncing'))
        throw err('mirror-survivor-stale', `${pair.name(k)}'s copy of the guest's disk is ${sk.disk}: the guest cannot run from it.`, {
          fix: 'lockstep mirror status',
          host: pair.hosts[k].hostId,
        });
      let report: DiskResync | null = null;
      if (!(isInSync(sk) && isInSync(so)) && sk.state !== 'syncing') {
        w.log(`Joining the disks: ${pair.name(o)} discards what it wrote since the split, DRBD copies only the blocks written on either side`);
        await markResync(svc, pair);
        if (so.role === 'Primary')
          await pair.check(o, drbd.secondary(rec.resource), {
            step: 'mirror-join',
            fix: `On ${pair.name(o)}: stop what uses ${rec.device} (the pair's VM), then run the same command again.`,
          });
        if (so.state !== 'standalone' && so.state !== 'split-brain') await pair.exec(o, drbd.disconnect(rec.resource));
        await pair.check(o, drbd.connect(rec.resource, { discardMyData: true }), { step: 'mirror-join' });
        if (sk.state === 'standalone' || sk.state === 'split-brain') await pair.check(k, drbd.connect(rec.resource), { step: 'mirror-join' });
      }
      const ws = await watchSync(svc, { ...w, params: null }, pair, rec, `Resync ${pair.name(k)} → ${pair.name(o)}`, 1_800_000);
      // only a resync this join started counts (the mark is set right before reconnecting)
      const f = svc.stored()?.resyncMark ? await recordResync(svc, pair, rec, 'Re-protect resync', ws.seconds) : null;
      // DRBD's online verify when asked: it reads both disks whole (for a big disk, long, and the guest's I/O waits behind it)
      const oos = f && opts.verify ? await runVerify(svc, { ...w, params: null }, pair, rec, 'mirror-join') : null;
      if (oos) svc.log('warn', `Online verify after the resync found ${oos} KiB out of sync on ${rec.resource}`);
      if (f)
        report = {
          verifiedOutOfSyncBytes: oos === null ? null : oos * KiB,
          bytes: f.resyncKiB * KiB,
          seconds: f.seconds,
          sourceBitmapBytes: f.sourceBitmapKiB === null ? null : f.sourceBitmapKiB * KiB,
          targetBitmapBytes: f.targetBitmapKiB === null ? null : f.targetBitmapKiB * KiB,
          alMarkedBytes: f.alMarkedKiB * KiB,
        };
      // the kept side serves the guest: Primary; the other may be primary too only while its QEMU joins
      const now = (await view(pair, rec, o)).status;
      if (configured(now) && now.role === 'Primary') await pair.exec(o, drbd.secondary(rec.resource));
      const kept = (await view(pair, rec, k)).status;
      if (!configured(kept) || kept.role !== 'Primary') await promote(pair, rec, k);
      svc.patch((r) => (r.primary = k));
      setSplit(false);
      return report;
    },

    async openOn(h) {
      const { rec, pair } = ctx();
      const s = sideOf(pair, h);
      await bothSides((side) => pair.check(side, twoPrimaries(rec.resource, true), { step: 'mirror-open' }));
      const v = (await view(pair, rec, s)).status;
      if (!configured(v) || v.role !== 'Primary') await promote(pair, rec, s);
    },

    async split() {
      const { rec, pair } = ctx();
      setSplit(true);
      await bothSides(async (side) => {
        const v = (await view(pair, rec, side)).status;
        if (configured(v) && v.state !== 'standalone') await pair.check(side, drbd.disconnect(rec.resource), { step: 'mirror-split' });
      });
      svc.log(
        'info',
        `${rec.resource} disconnected for lockstep: the secondary's disk now follows the primary through QEMU; each side's bitmap records its writes`,
      );
    },

    seeded: () => svc.stored()?.underPair?.seeded === true,
    markSeeded: () => void svc.patch((r) => (r.underPair = { split: r.underPair?.split ?? false, seeded: true })),
  };
}
