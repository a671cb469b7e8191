/** The steps of `mirror setup` (probe → apply → verify each), run by the task runner for MirrorService. */

import type { Side } from '../hosts/command.js';

import { bothSides, HostPair, pollUntil, err } from '../hosts/pair-exec.js';

import { RETRY_DROPPED, type PlanKind, type Step, type StepContext } from '../tasks/step.js';
import * as drbd from './drbd-commands.js';
import { LockstepError } from '../contract/index.js';
import { installFixAnyDistro, LAB_DRBD_FIX } from '../hosts/distro.js';

import { parseProcDrbdVersion } from './parse.js';
import { type MirrorContext, type MirrorStored, type MirrorSetupParams, type View, configured } from './mirror-record.js';
import { configStep } from './config-step.js';
import { disksStep, metadataStep } from './disk-steps.js';
import { syncStep } from './sync-step.js';
import { markResync } from './resync-watch.js';

export function setupKind(svc: MirrorContext): PlanKind<MirrorSetupParams> {
  return {
    kind: 'mirror.setup',
    // every step probes first: one whose SSH connection dropped is simply tried again
    retry: RETRY_DROPPED,
    title: (p) => `Mirror a disk of ${p.a} and ${p.b} with DRBD${p.blank ? ' (blank disks: no full copy)' : ''}`,
    steps: () => [disksStep(svc), moduleStep(svc), configStep(svc), metadataStep(svc), upStep(svc), syncStep(svc), recordStep(svc)],
  };
}

/** 2. `modprobe drbd` on both: drbd-utils picks 8.4 or 9 tools from /proc/drbd, so this comes first. */
export function moduleStep(svc: MirrorContext): Step<MirrorSetupParams> {
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
        fix: await noDrbdFix(svc, pair, side),
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
      await bothSides(async (s) => {
        try {
          await pair.check(s, drbd.modprobeDrbd(), { step: 'mirror-module', code: 'mirror-no-drbd' });
        } catch (e) {
          // the fix depends on the host: only asked when modprobe failed
          if (e instanceof LockstepError && e.code === 'mirror-no-drbd') throw new LockstepError({ ...e.toDTO(), fix: await noDrbdFix(svc, pair, s) });
          throw e;
        }
      });
    },
    verify: async (ctx) => {
      await remember(ctx, true);
    },
  };
}

/** 5. `drbdadm up` (attach + connect) where the resource is not up; both must reach Connected. */
export function upStep(svc: MirrorContext): Step<MirrorSetupParams> {
  const connected = (v: View) => configured(v.status) && (v.status.state === 'connected' || v.status.state === 'syncing' || v.status.state === 'verifying');
  const views = async (pair: HostPair, rec: MirrorStored) => bothSides((s) => svc.observe(pair, rec, s, { log: true, assumeReachable: true }));
  return {
    id: 'mirror-up',
    title: 'Attach the disks and connect the hosts (drbdadm up)',
    probe: async (ctx) => (await views(svc.pair(ctx.params), svc.stored()!)).every(connected),
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const rec = svc.stored()!;
      await markResync(svc, pair); // a returning host may resync right away: its figures are recorded in the next step
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

/** 7. Remember that the mirror is complete. */
export function recordStep(svc: MirrorContext): Step<MirrorSetupParams> {
  return {
    id: 'mirror-record',
    title: 'Remember the mirror',
    probe: async () => svc.stored()?.complete === true,
    apply: async () => {
      const rec = svc.patch((r) => (r.complete = true));
      svc.log(
        'info',
        `Mirror ${rec.resource} (${rec.device}) up: ${rec.names.A} ${rec.disks.A} ⇄ ${rec.names.B} ${rec.disks.B} over ${rec.addresses.A} ⇄ ${rec.addresses.B}`,
      );
    },
    verify: async () => {},
  };
}

/** How a host gets DRBD: a lab host needs the kernel lab (never a reboot of this machine); another host a kernel with drbd.ko and drbd-utils. */
async function noDrbdFix(svc: MirrorContext, pair: HostPair, side: Side): Promise<string> {
  if (await svc.isLabHost(pair.hosts[side])) return LAB_DRBD_FIX;
  return `On ${pair.name(side)}: boot a kernel that carries drbd.ko (Debian's and Proxmox VE's do; \`lockstep preflight\` names the package for its distribution) and install drbd-utils (${installFixAnyDistro(['drbdadm'])}), then run \`lockstep mirror setup\` again`;
}
