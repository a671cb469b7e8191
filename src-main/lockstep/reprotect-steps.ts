import { LockstepError } from '../contract/index.js';
import { readSshBanner } from '../hosts/banner.js';
import type { Step } from '../tasks/step.js';
import { vmPaths, HOST_PATHS } from '../hosts/vm-layout.js';
import { ensureObjects, ensureProxies, joinColo } from './colo-join.js';
import {
  coloMode,
  networkStep,
  requirePair,
  secondaryStep,
  sessions,
  blankDisk,
  stageHost,
  waitSecondaryMode,
  type ColoContext,
  type ProtectParams,
} from './colo-steps.js';
import { killQemu } from '../hosts/vm-process.js';
import { remoteSha256 } from '../hosts/remote-files.js';
import { vmFiles } from './pair-record.js';
import { USER_DISK } from './user-vm.js';
import { Qmp } from '../hosts/qmp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Re-protect after a failover: the survivor (`a`, running alone) stays primary and keeps serving;
 * a fresh secondary starts on the returned host (`b`); the survivor's whole disk is mirrored to it
 * over NBD (a full copy: the lab pair has no DRBD), then the survivor joins COLO again live.
 */
export function reprotectSteps(ctx: ColoContext): Step<ProtectParams>[] {
  const pair = () => requirePair(ctx);
  const both = (p: ProtectParams) => sessions(ctx, p);
  const primaryQmp = async (p: ProtectParams) => {
    const { sa } = await both(p);
    return Qmp.open(sa, vmPaths(HOST_PATHS.run, vmFiles(pair(), 'primary')).qmp, { timeoutMs: 3000 });
  };
  return [
    {
      id: 'returned',
      title: 'The returned host answers; nothing of the old pair still runs there; the guest is staged on it',
      probe: async () => false,
      apply: async ({ params }) => {
        const b = ctx.host(params.b);
        const down = (cause: string) =>
          new LockstepError({
            code: 'host-still-down',
            message: `${b.name} does not answer over SSH yet.`,
            cause,
            host: b.hostId,
            fix: `Power ${b.name} on (virtual lab: lockstep lab power ${b.name} on), then lockstep lockstep reprotect`,
          });
        // a host that is off never answers: ask for its SSH banner (3 s) before the full connect and its retries
        if (!(await readSshBanner(b.address, b.port, 3000))) throw down(`no SSH banner from ${b.address}:${b.port} within 3 s`);
        const sb = await ctx.session(b).catch((e: unknown) => {
          throw down((e as Error).message);
        });
        // a host that lost the pair must not run any VM of it (never two primaries)
        for (const role of ['primary', 'secondary'] as const) await killQemu(sb, vmPaths(HOST_PATHS.run, role).pid, 1000);
        const forB = { host: b.name, again: 'lockstep lockstep reprotect' };
        await stageHost(ctx, sb, pair(), forB);
        // without DRBD its disk is overwritten block by block by the copy: it only has to exist with the right size
        const vm = pair().vm;
        if (vm) {
          // a user VM: the returned host's base sized as the survivor's (its blocks come from the survivor's drive-mirror)
          const sa = await ctx.session(ctx.host(params.a));
          const size = (await sa.check(['stat', '-c', '%s', USER_DISK])).trim();
          await sb.check(['dd', 'if=/dev/zero', `of=${USER_DISK}`, 'bs=1', 'count=0', `seek=${size}`, 'status=none']);
        } else {
          const disk = `${HOST_PATHS.lib}/disk.img`;
          if (!pair().disk && (await remoteSha256(sb, disk)) === null) await blankDisk(sb, disk);
        }
      },
      verify: async () => {},
    },
    networkStep(ctx, 'secondary'),
    {
      id: 'disk',
      title: 'DRBD: the returned host discards its changes; only the blocks written on either side since the split are resynced',
      // without DRBD the disk is copied in full below
      probe: async () => !pair().disk,
      apply: async (step) => {
        const got = await ctx.disks.join(ctx.host(step.params.a), step, { verify: step.params.verify === true });
        ctx.save({ ...pair(), lastResync: { how: 'drbd', ...(got ?? { bytes: 0, seconds: 0 }), at: Date.now() } });
      },
      verify: async () => {},
    },
    secondaryStep(ctx),
    {
      id: 'resync',
      title: 'Copy the survivor’s disk to the returned host while the guest keeps running (full copy over NBD)',
      probe: async ({ params }) => {
        if (pair().disk) return true;
        const { sa } = await both(params);
        return (await coloMode(sa, vmFiles(pair(), 'primary'))) === 'primary';
      },
      apply: async ({ params, signal, progress }) => {
        const r = pair();
        const q = await primaryQmp(params);
        try {
          await ensureProxies(q, r.xa, signal);
          const jobs = await q.exec<{ device: string }[]>('query-block-jobs');
          if (!jobs.some((j) => j.device === 'resync'))
            await q.exec('drive-mirror', {
              device: 'colo-disk0',
              'job-id': 'resync',
              target: `nbd://${r.xb}:9999/parent0`,
              mode: 'existing',
              format: 'raw',
              sync: 'full',
            });
          const t0 = Date.now();
          for (;;) {
            const job = (await q.exec<{ device: string; offset: number; len: number; ready: boolean; status?: string }[]>('query-block-jobs')).find(
              (j) => j.device === 'resync',
            );
            if (!job)
              throw new LockstepError({
                code: 'resync-failed',
                message: 'The disk copy to the returned host stopped.',
                fix: 'lockstep lockstep reprotect (it starts the copy again)',
              });
            const secs = (Date.now() - t0) / 1000;
            const rate = secs > 0 ? job.offset / secs : 0;
            progress({
              fraction: job.len ? job.offset / job.len : null,
              message: `Disk copy ${(job.offset / 2 ** 20).toFixed(1)} of ${(job.len / 2 ** 20).toFixed(1)} MiB`,
              rate,
              rateUnit: 'B/s',
              ...(rate > 0 ? { etaSeconds: Math.max(0, (job.len - job.offset) / rate) } : {}),
            });
            if (job.ready) {
              ctx.save({ ...pair(), lastResync: { how: 'full-copy', bytes: job.len, seconds: secs, at: Date.now() } });
              break;
            }
            if (signal.aborted) {
              await q.exec('block-job-cancel', { device: 'resync' }).catch(() => undefined);
              throw new LockstepError({ code: 'cancelled', message: 'Re-protect was cancelled; the guest keeps running alone.' });
            }
            await sleep(200);
          }
        } finally {
          q.close();
        }
      },
      verify: async () => {},
    },
    {
      id: 'lockstep',
      title: 'Pause the guest a moment, end the copy, and bring both into lockstep (COLO) again',
      probe: async ({ params }) => {
        const { sa } = await both(params);
        return (await coloMode(sa, vmFiles(pair(), 'primary'))) === 'primary';
      },
      apply: async ({ params, signal }) => {
        const r = pair();
        const { sb } = await both(params);
        const q = await primaryQmp(params);
        try {
          // the proxies the secondary connects to (the full copy's step added them already)
          if (r.disk) await ensureProxies(q, r.xa, signal);
          // the copy is in step with the disk only while the guest is paused; COLO resumes it
          await q.exec('stop');
          if (r.disk) {
            // DRBD made the disks identical and the guest is paused: from here the secondary's follows through QEMU
            await ctx.disks.split();
          } else {
            await q.exec('block-job-cancel', { device: 'resync' });
            const until = Date.now() + 10_000;
            while ((await q.exec<{ device: string }[]>('query-block-jobs')).some((j) => j.device === 'resync')) {
              if (Date.now() > until) throw new LockstepError({ code: 'resync-stuck', message: 'The disk copy did not end.' });
              await sleep(20);
            }
          }
          await ensureObjects(q, r.primaryVm === 'secondary');
          const { replNode } = await joinColo(q, { xb: r.xb, generation: r.generation ?? 1, signal, resume: true });
          ctx.save({ ...pair(), replNode });
        } catch (e) {
          // never leave the only running copy of the guest paused
          await q.exec('cont').catch(() => undefined);
          throw e;
        } finally {
          q.close();
        }
        await waitSecondaryMode(sb);
      },
      verify: async ({ params }) => {
        const { sa } = await both(params);
        const r = pair();
        if ((await coloMode(sa, vmFiles(r, 'primary'))) !== 'primary')
          throw new LockstepError({ code: 'colo-primary', message: 'The survivor is not in COLO mode.' });
        ctx.save({ ...r, state: 'lockstep', since: Date.now(), generation: (r.generation ?? 1) + 1 });
      },
    },
  ];
}
