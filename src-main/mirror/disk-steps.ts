/** Steps 1 and 4 of `mirror setup`: choose and check the backing disk on each host, then write DRBD metadata on it. */

import type { Side } from '../hosts/command.js';

import { bothSides, HostPair, SIDES, err } from '../hosts/pair-exec.js';
import { candidateDisks } from '../hosts/facts/candidate-disks.js';
import { GATHER_SCRIPT } from '../hosts/facts/gather-script.js';
import { parseGatherOutput } from '../hosts/facts/parse.js';

import type { Step } from '../tasks/step.js';
import { diskCheckArgv, diskProblems, diskRefusal, parseDiskCheck, wipeConfirmed, type DiskUse } from './disk-check.js';
import * as drbd from './drbd-commands.js';

import { resyncRateFor } from './res-config.js';
import { RESOURCE, MINOR, PORT, KiB, MiB, type MirrorContext, type MirrorStored, type MirrorSetupParams, configured } from './mirror-record.js';

/** The preflight's candidates on one host (one gather round trip): unused, unmounted, no signature. */
export async function chooseDisk(svc: MirrorContext, pair: HostPair, side: Side): Promise<string> {
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
export function disksStep(svc: MirrorContext): Step<MirrorSetupParams> {
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

/** Is the resource up (a minor with a disk attached) on this side? */
export async function attached(svc: MirrorContext, pair: HostPair, rec: MirrorStored, side: Side): Promise<boolean> {
  const v = await svc.observe(pair, rec, side, { assumeReachable: true });
  return configured(v.status) && v.status.disk !== 'Diskless';
}

/** 4. DRBD metadata at the end of each disk (create-md). Only on disks that are blank or confirmed with --wipe. */
export function metadataStep(svc: MirrorContext): Step<MirrorSetupParams> {
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
            fix: `Check that nothing else opened ${rec.disks[side]} on ${pair.name(side)} (\`lsblk ${rec.disks[side]}\`, \`fuser -vm ${rec.disks[side]}\`), then run \`lockstep mirror setup\` again`,
            step: 'mirror-metadata',
          });
      }
    },
  };
}
