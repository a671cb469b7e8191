/** Step 3 of `mirror setup`: the DRBD resource file, staged and validated on both hosts before it is renamed into place on either. */

import type { Side } from '../hosts/command.js';

import { bothSides, HostPair, readFileExact, SIDES, err } from '../hosts/pair-exec.js';

import type { Step } from '../tasks/step.js';
import * as drbd from './drbd-commands.js';

import { renderResource } from './res-config.js';
import type { MirrorContext, MirrorStored, MirrorSetupParams } from './mirror-record.js';

export function resourceText(svc: MirrorContext, rec: MirrorStored): string {
  return renderResource(
    {
      name: rec.resource,
      minor: rec.minor,
      port: rec.port,
      linkMiBps: rec.linkMiBps,
      clusterFencing: rec.clusterFencing === true,
      hosts: [
        { name: rec.unames.A!, address: rec.addresses.A, disk: rec.disks.A },
        { name: rec.unames.B!, address: rec.addresses.B, disk: rec.disks.B },
      ],
    },
    rec.flavour!,
  );
}

/** 3. /etc/drbd.d/r0.res on both: temp → drbdadm validates → fsync → rename (a crash never leaves it half-written). */
export function configStep(svc: MirrorContext): Step<MirrorSetupParams> {
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
          fix: `Check that /etc/drbd.d is writable on ${left.map((s) => pair.name(s)).join(' and ')} (\`df -h /etc\`; a read-only or full /etc stops it), then run \`lockstep mirror setup\` again`,
          step: 'mirror-config',
        });
    },
  };
}
