/** The steps of `mirror setup` (probe → apply → verify each), run by the task runner for MirrorService. */

import type { Side } from '../link/command.js';

import { bothSides, HostPair, pollUntil, readFileExact, SIDES, err } from '../link/remote.js';
import { candidateDisks } from '../preflight/findings.js';
import { GATHER_SCRIPT } from '../preflight/gather-script.js';
import { parseGatherOutput } from '../preflight/parse.js';

import { RETRY_DROPPED, type PlanKind, type Step, type StepContext } from '../tasks/step.js';
import { diskCheckArgv, diskProblems, diskRefusal, parseDiskCheck, wipeConfirmed, type DiskUse } from './disk-check.js';
import * as drbd from './drbd-commands.js';

import { parseProcDrbdVersion } from './parse.js';
import { renderResource, resyncRateFor } from './res-config.js';
import { isInSync } from './status.js';
import type { MirrorService } from './mirror-service.js';
import { RESOURCE, MINOR, PORT, KiB, MiB, type MirrorStored, type MirrorSetupParams, type View, type Configured, configured, fmtMiB } from './mirror-record.js';

export function setupKind(svc: MirrorService): PlanKind<MirrorSetupParams> {
  return {
    kind: 'mirror.setup',
    // every step probes first: one whose SSH connection dropped is simply tried again
    retry: RETRY_DROPPED,
    title: (p) => `Mirror a disk of ${p.a} and ${p.b} with DRBD${p.blank ? ' (blank disks: no full copy)' : ''}`,
    steps: () => [disksStep(svc), moduleStep(svc), configStep(svc), metadataStep(svc), upStep(svc), syncStep(svc), recordStep(svc)],
  };
}

/** The preflight's candidates on one host (one gather round trip): unused, unmounted, no signature. */
export async function chooseDisk(svc: MirrorService, pair: HostPair, side: Side): Promise<string> {
  const r = await pair.exec(side, ['sh', '-s'], { stdin: GATHER_SCRIPT, timeoutMs: 90_000 });
  const facts = parseGatherOutput(r.stdout);
  const found = candidateDisks(facts, 16 * MiB);
  const flag = side === 'A' ? '--disk-a' : '--disk-b';
  if (!found.length) {
    const seen = facts.disks.filter((d) => d.type === 'disk' || d.type === 'part' || d.type === 'loop');
    throw err('mirror-no-disk', `${pair.name(side)} has no free disk for the mirror (unmounted, unused, no file system or partition table).`, {
      cause: seen
        .map(
          (d) =>
            `${d.path}: ${[d.mounted ? `mounted on ${d.mountpoints.join(',')}` : '', d.fstype ?? '', d.pttype ? `${d.pttype} partitions` : '', d.onRootDisk ? 'holds /' : ''].filter(Boolean).join(', ') || 'free'}`,
        )
        .join('; '),
      fix: `Add an empty disk to ${pair.name(side)}, or name one whose data may be destroyed: lockstep mirror setup ${flag} /dev/X --wipe ${pair.name(side)}:/dev/X`,
      host: pair.hosts[side].hostId,
      step: 'mirror-disks',
    });
  }
  return found[0]!.path;
}

/** 1. Choose and check the backing disks. Read-only; refuses anything in use before anything changes. */
export function disksStep(svc: MirrorService): Step<MirrorSetupParams> {
  return {
    id: 'mirror-disks',
    title: 'Choose the backing disk on each host (refuse disks in use or holding data)',
    probe: async () => false,
    apply: async (ctx) => {
      const p = ctx.params;
      const pair = svc.pair(p);
      const prev = svc.stored();
      const mine = prev && prev.hosts.A === p.a && prev.hosts.B === p.b ? prev : undefined;
      const chosen = await bothSides(async (side) => {
        const named = side === 'A' ? p.diskA : p.diskB;
        const disk = named ?? mine?.disks[side] ?? (await chooseDisk(svc, pair, side));
        const use: DiskUse = parseDiskCheck(disk, await pair.check(side, diskCheckArgv(disk), { step: 'mirror-disks' }));
        const ours = !!mine && mine.disks[side] === disk && mine.initialized.includes(side);
        return { side, disk, use, ours, problems: diskProblems(use, { ours, minor: MINOR }) };
      });
      const wiped: Side[] = [];
      for (const c of chosen) {
        if (!c.problems.length) continue;
        const h = pair.hosts[c.side];
        if (c.problems.every((x) => x.wipeable) && wipeConfirmed(p.wipe, h, c.disk)) {
          wiped.push(c.side);
          continue;
        }
        const otherArg = c.side === 'A' ? (p.diskB ? `--disk-b ${p.diskB}` : '') : p.diskA ? `--disk-a ${p.diskA}` : '';
        throw diskRefusal(h, c.disk, c.problems, { flag: c.side === 'A' ? '--disk-a' : '--disk-b', otherArgs: otherArg || undefined });
      }
      const disks = { A: chosen[0]!.disk, B: chosen[1]!.disk };
      const sizes = chosen.map((c) => c.use.sizeBytes ?? 0);
      const rate = resyncRateFor(p.linkMiBps);
      const rec: MirrorStored = {
        version: 1,
        resource: RESOURCE,
        minor: MINOR,
        device: `/dev/drbd${MINOR}`,
        port: PORT,
        hosts: { A: p.a, B: p.b },
        names: pair.names,
        unames: mine?.unames ?? {},
        addresses: p.addresses,
        disks,
        wiped,
        // a different disk than before: its metadata is not ours
        initialized: (mine?.initialized ?? []).filter((s) => mine!.disks[s] === disks[s]),
        flavour: mine?.flavour ?? null,
        linkMiBps: p.linkMiBps,
        resyncRateKiB: rate.kiBps,
        complete: mine?.complete ?? false,
        primary: mine?.primary ?? null,
        sizeKiB: Math.min(...sizes) / KiB,
        ...(mine?.initialSync ? { initialSync: mine.initialSync } : {}),
        ...(mine?.lastResync ? { lastResync: mine.lastResync } : {}),
        ...(mine?.lastVerify ? { lastVerify: mine.lastVerify } : {}),
      };
      svc.save(rec);
      ctx.log(
        `Backing disks: ${pair.name('A')} ${disks.A} (${(sizes[0]! / MiB).toFixed(0)} MiB), ${pair.name('B')} ${disks.B} (${(sizes[1]! / MiB).toFixed(0)} MiB)${wiped.length ? `; confirmed to overwrite: ${wiped.map((s) => `${pair.name(s)}:${disks[s]}`).join(', ')}` : ''}`,
      );
      if (sizes[0] !== sizes[1]) ctx.log(`The disks differ in size: the mirror uses the smaller (${(Math.min(...sizes) / MiB).toFixed(0)} MiB).`, 'warn');
    },
    verify: async () => {
      const r = svc.stored();
      if (!r?.disks.A || !r.disks.B)
        throw err('mirror-disks', 'No backing disks were chosen.', { fix: 'lockstep mirror setup --disk-a /dev/X --disk-b /dev/Y', step: 'mirror-disks' });
    },
  };
}

/** 2. `modprobe drbd` on both: drbd-utils picks 8.4 or 9 tools from /proc/drbd, so this comes first. */
export function moduleStep(svc: MirrorService): Step<MirrorSetupParams> {
  const read = async (pair: HostPair, side: Side) => {
    const proc = await pair.exec(side, drbd.readProcDrbd());
    const uname = await pair.check(side, ['uname', '-n'], { step: 'mirror-module' });
    return { version: proc.code === 0 ? parseProcDrbdVersion(proc.stdout) : null, uname: uname.trim() };
  };
  const remember = async (ctx: StepContext<MirrorSetupParams>, must: boolean): Promise<boolean> => {
    const pair = svc.pair(ctx.params);
    const got = await bothSides((s) => read(pair, s));
    if (got.some((g) => g.version === null)) {
      if (!must) return false;
      const side = got[0]!.version === null ? 'A' : 'B';
      throw err('mirror-no-drbd', `DRBD did not load on ${pair.name(side)}.`, {
        fix: `On ${pair.name(side)}: apt-get install -y drbd-utils, and boot a kernel that carries drbd.ko (Debian's linux-image-amd64 does), then: lockstep mirror setup`,
        host: pair.hosts[side].hostId,
        step: 'mirror-module',
      });
    }
    const [a, b] = got as [(typeof got)[0], (typeof got)[0]];
    if (a.version!.flavour !== b.version!.flavour)
      throw err(
        'mirror-drbd-mismatch',
        `${pair.name('A')} runs DRBD ${a.version!.version}, ${pair.name('B')} DRBD ${b.version!.version}: a mirror needs the same major version.`,
        {
          fix: 'Boot both hosts with the same DRBD (the same kernel, or DRBD 9 on both).',
          step: 'mirror-module',
        },
      );
    if (a.uname === b.uname)
      throw err('mirror-same-name', `Both hosts call themselves ${a.uname} (uname -n): DRBD tells the two ends apart by that name.`, {
        fix: `Give one of them another name: hostnamectl set-hostname NEWNAME`,
        step: 'mirror-module',
      });
    svc.patch((r) => {
      r.flavour = a.version!.flavour;
      r.unames = { A: a.uname, B: b.uname };
    });
    ctx.log(`DRBD ${a.version!.version} (${a.version!.flavour}) on both hosts`);
    return true;
  };
  return {
    id: 'mirror-module',
    title: 'Load DRBD on both hosts (modprobe drbd)',
    probe: async (ctx) => remember(ctx, false),
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      await bothSides((s) =>
        pair.check(s, drbd.modprobeDrbd(), {
          step: 'mirror-module',
          code: 'mirror-no-drbd',
          fix: 'apt-get install -y drbd-utils kmod, on a kernel that carries drbd.ko',
        }),
      );
    },
    verify: async (ctx) => {
      await remember(ctx, true);
    },
  };
}

export function resourceText(svc: MirrorService, rec: MirrorStored): string {
  return renderResource(
    {
      name: rec.resource,
      minor: rec.minor,
      port: rec.port,
      linkMiBps: rec.linkMiBps,
      hosts: [
        { name: rec.unames.A!, address: rec.addresses.A, disk: rec.disks.A },
        { name: rec.unames.B!, address: rec.addresses.B, disk: rec.disks.B },
      ],
    },
    rec.flavour!,
  );
}

/** 3. /etc/drbd.d/r0.res on both: temp → drbdadm validates → fsync → rename (a crash never leaves it half-written). */
export function configStep(svc: MirrorService): Step<MirrorSetupParams> {
  const differs = async (pair: HostPair, rec: MirrorStored): Promise<Side[]> => {
    const want = resourceText(svc, rec);
    const out: Side[] = [];
    for (const side of SIDES) {
      const r = await readFileExact(pair, side, `/etc/drbd.d/${rec.resource}.res`);
      if (r.code !== 0 || r.stdout !== want) out.push(side);
    }
    return out;
  };
  return {
    id: 'mirror-config',
    title: 'Write the DRBD resource on both hosts (validated, flushed, renamed into place)',
    probe: async (ctx) => (await differs(svc.pair(ctx.params), svc.stored()!)).length === 0,
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const rec = svc.stored()!;
      const plan = drbd.configWritePlan(rec.resource, resourceText(svc, rec));
      const todo = await differs(pair, rec);
      const run = async (side: Side, steps: typeof plan.steps) => {
        for (const s of steps) {
          const r = await pair.exec(side, s.argv, { stdin: s.stdin });
          if (r.code !== 0)
            throw pair.failure(side, s.argv, r, {
              code: 'mirror-config',
              why: s.why,
              step: 'mirror-config',
              fix: 'Check that drbd-utils is installed and /etc/drbd.d is writable on that host, then: lockstep mirror setup',
              again: 'lockstep mirror setup',
            });
        }
      };
      // two phases, both hosts at once (each write is several round trips): first the new file is
      // written, validated and flushed beside the old one on BOTH hosts; only when both succeeded is
      // it renamed into place. A failure on one host (a full disk) leaves neither host changed.
      const mv = plan.steps.findIndex((s) => s.argv[0] === 'mv');
      const commitAt = mv < 0 ? plan.steps.length : mv;
      const staged = await Promise.allSettled(todo.map((side) => run(side, plan.steps.slice(0, commitAt))));
      const failed = staged.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) {
        for (const side of todo) for (const f of plan.onFailure) await pair.exec(side, f.argv).catch(() => undefined);
        throw failed.reason;
      }
      await bothSides(async (side) => {
        if (!todo.includes(side)) return;
        await run(side, plan.steps.slice(commitAt));
        // a resource already up takes the new file at once (convergent)
        const up = await pair.exec(side, drbd.cstate(rec.resource));
        if (up.code === 0 && up.stdout.trim() !== '' && up.stdout.trim() !== 'Unconfigured')
          await pair.check(side, drbd.adjust(rec.resource), { step: 'mirror-config' });
        ctx.log(`${pair.name(side)}: wrote ${plan.finalPath} (resync rate ${rec.resyncRateKiB} KiB/s from the link's ${rec.linkMiBps} MiB/s)`);
      });
    },
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const left = await differs(pair, svc.stored()!);
      if (left.length)
        throw err('mirror-config', `The resource file is not in place on ${left.map((s) => pair.name(s)).join(', ')}.`, {
          fix: 'lockstep mirror setup',
          step: 'mirror-config',
        });
    },
  };
}

/** Is the resource up (a minor with a disk attached) on this side? */
export async function attached(svc: MirrorService, pair: HostPair, rec: MirrorStored, side: Side): Promise<boolean> {
  const v = await svc.observe(pair, rec, side, { assumeReachable: true });
  return configured(v.status) && v.status.disk !== 'Diskless';
}

/** 4. DRBD metadata at the end of each disk (create-md). Only on disks that are blank or confirmed with --wipe. */
export function metadataStep(svc: MirrorService): Step<MirrorSetupParams> {
  const todo = async (pair: HostPair, rec: MirrorStored): Promise<Side[]> => {
    const out: Side[] = [];
    for (const side of SIDES) if (!rec.initialized.includes(side) && !(await attached(svc, pair, rec, side))) out.push(side);
    return out;
  };
  return {
    id: 'mirror-metadata',
    title: 'Write DRBD metadata on both disks (create-md)',
    probe: async (ctx) => (await todo(svc.pair(ctx.params), svc.stored()!)).length === 0,
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const rec = svc.stored()!;
      const sides = await todo(pair, rec);
      await bothSides(async (side) => {
        if (!sides.includes(side)) return;
        const wiped = rec.wiped.includes(side);
        const disk = rec.disks[side];
        if (wiped) {
          await pair.check(side, ['wipefs', '--all', disk], { step: 'mirror-metadata', fix: `Check that nothing opened ${disk} on ${pair.name(side)}.` });
          ctx.log(`${pair.name(side)}: wiped the signatures of ${disk} (confirmed with --wipe)`, 'warn');
        }
        // an empty stdin: on a disk with old metadata drbdadm would ask; without a TTY it cancels instead of overwriting
        const argv = drbd.createMd(rec.resource, { force: wiped });
        const r = await pair.exec(side, argv, { stdin: '', timeoutMs: 120_000 });
        if (r.code !== 0)
          throw pair.failure(side, argv, r, {
            code: 'mirror-create-md',
            why: `DRBD metadata could not be written on ${disk}`,
            step: 'mirror-metadata',
            fix: `If ${disk} may be overwritten: lockstep mirror setup --wipe ${pair.name(side)}:${disk}`,
          });
        svc.patch((x) => x.initialized.includes(side) || x.initialized.push(side));
      });
    },
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const rec = svc.stored()!;
      for (const side of SIDES) {
        if (await attached(svc, pair, rec, side)) continue;
        const use = parseDiskCheck(rec.disks[side], await pair.check(side, diskCheckArgv(rec.disks[side]), { step: 'mirror-metadata' }));
        if (use.signature?.type !== 'drbd')
          throw err('mirror-create-md', `${pair.name(side)} ${rec.disks[side]} shows no DRBD metadata after create-md.`, {
            fix: 'lockstep mirror setup',
            step: 'mirror-metadata',
          });
      }
    },
  };
}

/** 5. `drbdadm up` (attach + connect) where the resource is not up; both must reach Connected. */
export function upStep(svc: MirrorService): Step<MirrorSetupParams> {
  const connected = (v: View) => configured(v.status) && (v.status.state === 'connected' || v.status.state === 'syncing' || v.status.state === 'verifying');
  const views = async (pair: HostPair, rec: MirrorStored) => bothSides((s) => svc.observe(pair, rec, s, { log: true, assumeReachable: true }));
  return {
    id: 'mirror-up',
    title: 'Attach the disks and connect the hosts (drbdadm up)',
    probe: async (ctx) => (await views(svc.pair(ctx.params), svc.stored()!)).every(connected),
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const rec = svc.stored()!;
      await svc.markResync(pair); // a returning host may resync right away: its figures are recorded in the next step
      for (const v of await views(pair, rec)) {
        const s = v.status;
        const name = pair.name(v.side);
        if (s?.state === 'split-brain')
          throw err('mirror-split-brain', `${name} is in split brain: both hosts changed the data while apart.`, {
            fix: `Decide whose data survives: lockstep mirror resolve ${pair.name(rec.primary ?? 'A')}   (the other host's changes since the split are discarded)`,
            step: 'mirror-up',
          });
        if (!configured(s)) {
          const r = await pair.exec(v.side, drbd.up(rec.resource));
          if (r.code !== 0) {
            // a failed up leaves the minor half-configured: take it down, try once more
            await pair.exec(v.side, drbd.down(rec.resource));
            await pair.check(v.side, drbd.up(rec.resource), {
              step: 'mirror-up',
              code: 'mirror-up-failed',
              fix: `On ${name}: drbdadm down ${rec.resource}; then lockstep mirror setup`,
            });
          }
          ctx.log(`${name}: ${rec.resource} up`);
        } else if (s.disk === 'Diskless' || s.state === 'standalone') {
          await pair.check(v.side, drbd.adjust(rec.resource), { step: 'mirror-up', code: 'mirror-up-failed' });
          ctx.log(`${name}: ${rec.resource} adjusted (was ${s.disk === 'Diskless' ? 'diskless' : 'standalone'})`);
        }
      }
    },
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const rec = svc.stored()!;
      // "initial packet crossed" makes DRBD 8.4 retry after connect-int (10 s): allow for it
      const ok = await pollUntil(async () => ((await views(pair, rec)).every(connected) ? true : undefined), {
        timeoutMs: 45_000,
        intervalMs: 500,
        signal: ctx.signal,
      });
      if (!ok) {
        const v = await views(pair, rec);
        throw err(
          'mirror-not-connected',
          `The hosts do not connect over the link (${v.map((x) => `${pair.name(x.side)}: ${configured(x.status) ? x.status.cstate : 'down'}`).join(', ')}).`,
          {
            fix: `Check the link (lockstep link status) and that TCP port ${rec.port} is open between ${rec.addresses.A} and ${rec.addresses.B}; then lockstep mirror setup`,
            step: 'mirror-up',
          },
        );
      }
    },
  };
}

/** 6. The first full copy (A → B, with progress), or none for blank disks; a returning host resyncs incrementally here. */
export function syncStep(svc: MirrorService): Step<MirrorSetupParams> {
  const inSync = async (pair: HostPair, rec: MirrorStored) =>
    (await bothSides((s) => svc.observe(pair, rec, s, { assumeReachable: true }))).every((v) => v.status !== null && isInSync(v.status));
  return {
    id: 'mirror-sync',
    title: 'Initial sync (percent, rate, time left) until both disks are UpToDate',
    probe: async (ctx) => {
      const pair = svc.pair(ctx.params);
      if (!(await inSync(pair, svc.stored()!))) return false;
      // a returning host may have finished its (incremental) resync already while connecting
      await svc.recordResync(pair, svc.stored()!, 'Resync', null);
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
        svc.deps.bus.log('info', 'mirror', `Blank disks declared identical in ${seconds.toFixed(2)} s (new-current-uuid --clear-bitmap): no initial copy`);
        return;
      }
      if (fresh) {
        // the first full copy: A's data becomes the good copy
        await svc.markResync(pair);
        await pair.check('A', drbd.primary(rec.resource, { force: true }), { step: 'mirror-sync' });
        svc.patch((r) => (r.primary = 'A'));
        const rateMiB = rec.resyncRateKiB / 1024;
        const w = await svc.watchSync(
          ctx,
          pair,
          rec,
          `Initial sync ${pair.name('A')} → ${pair.name('B')}`,
          Math.max(120_000, ((sizeKiB / 1024 / Math.max(1, rateMiB / 4)) * 1000) | 0),
        );
        const f = await svc.recordResync(pair, rec, 'Initial sync', w.seconds);
        const kib = f?.resyncKiB ?? w.totalKiB ?? sizeKiB;
        const seconds = f?.seconds ?? w.seconds;
        const mibPerSec = seconds > 0 ? kib / 1024 / seconds : null;
        svc.patch((r) => (r.initialSync = { mode: 'full', kib, seconds, mibPerSec, at: Date.now() }));
        svc.deps.bus.log(
          'info',
          'mirror',
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
      const w = await svc.watchSync(ctx, pair, rec, 'Resync', 600_000);
      await svc.recordResync(pair, rec, 'Resync', w.seconds);
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

/** 7. Remember that the mirror is complete. */
export function recordStep(svc: MirrorService): Step<MirrorSetupParams> {
  return {
    id: 'mirror-record',
    title: 'Remember the mirror',
    probe: async () => svc.stored()?.complete === true,
    apply: async () => {
      const rec = svc.patch((r) => (r.complete = true));
      svc.deps.bus.log(
        'info',
        'mirror',
        `Mirror ${rec.resource} (${rec.device}) up: ${rec.names.A} ${rec.disks.A} ⇄ ${rec.names.B} ${rec.disks.B} over ${rec.addresses.A} ⇄ ${rec.addresses.B}`,
      );
    },
    verify: async () => {},
  };
}

// ── mirror.verify ───────────────────────────────────────────────────────────────────

/** `drbdadm verify` from the primary side, watched until done; returns KiB found out of sync. */
