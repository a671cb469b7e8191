/**
 * The steps of `cluster setup --guest demo` that put the guest under Pacemaker (probe → apply →
 * verify each): its files and tap on both hosts, its argument file, its blank counter disk laid on
 * the DRBD device once (before Pacemaker may start it), and, after the configuration is loaded,
 * the guest running where DRBD is promoted.
 */
import type { Side } from '../hosts/command.js';
import { bothSides, err, HostPair, pollUntil, readFileExact, SIDES } from '../hosts/pair-exec.js';
import type { Step } from '../tasks/step.js';
import * as cmd from './cluster-commands.js';
import type { ClusterContext, ClusterSetupParams, ClusterStored } from './cluster-record.js';
import { ids } from './crm-config.js';
import { promotedNode, runningOn } from './crm-mon.js';
import { GUEST_DIR, guestArgsPath, renderGuestArgs } from './guest-agent.js';
import { monOf } from './mon-read.js';

const argsText = (rec: ClusterStored) => renderGuestArgs(rec.guest!.argv, rec.guest!.device);
const deviceOf = (rec: ClusterStored) => rec.guest!.device;

/** The DRBD side that is Primary now (Pacemaker's promoted one, or the mirror's before Pacemaker runs it). */
async function primarySide(pair: HostPair, rec: ClusterStored): Promise<Side | null> {
  for (const s of SIDES) if ((await pair.exec(s, cmd.drbdRole(rec.drbdResource))).stdout.trim().startsWith('Primary')) return s;
  return null;
}

/** Files, tap, argument file on both hosts; the counter disk laid once on the Primary's DRBD device. */
export function guestStageStep(svc: ClusterContext): Step<ClusterSetupParams> {
  const inPlace = async (pair: HostPair, rec: ClusterStored, apply: boolean) => {
    const g = svc.guests;
    const staged = await bothSides((s) => g.stage(pair.hosts[s].hostId, apply));
    const args = await bothSides((s) => readFileExact(pair, s, guestArgsPath(rec.guest!.name)));
    return staged.every(Boolean) && args.every((a) => a.code === 0 && a.stdout === argsText(rec)) && g.seeded();
  };
  return {
    id: 'cluster-guest-stage',
    title: 'Put the guest on both hosts (kernel, initrd, its tap, its argument file) and its blank disk on DRBD',
    probe: async (ctx) => !svc.stored()!.guest || (await inPlace(svc.pair(ctx.params.hosts), svc.stored()!, false)),
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params.hosts);
      const rec = svc.stored()!;
      const o = {
        step: 'cluster-guest-stage',
        code: 'cluster-guest-stage',
        fix: 'Check that /etc/lockstep is writable on that host, then: lockstep cluster setup',
      };
      await inPlace(pair, rec, true);
      await bothSides(async (s) => {
        await pair.check(s, ['mkdir', '-p', GUEST_DIR], o);
        await pair.check(s, cmd.writeFileAtomic(guestArgsPath(rec.guest!.name), '0644'), { ...o, stdin: argsText(rec) });
      });
      if (!svc.guests.seeded()) {
        const side = await primarySide(pair, rec);
        if (!side)
          throw err('cluster-no-primary', `DRBD ${rec.drbdResource} is Primary on neither host: the guest's blank disk has nowhere to be laid.`, {
            fix: `lockstep mirror status; then: lockstep cluster setup --guest ${rec.guest!.name}`,
            step: 'cluster-guest-stage',
          });
        await pair.check(side, cmd.seedDisk(deviceOf(rec), svc.guests.diskBytes), { ...o, fix: `lockstep mirror status (is ${deviceOf(rec)} Primary there?)` });
        svc.guests.markSeeded();
        ctx.log(
          `the guest's blank disk (${svc.guests.diskBytes / 2 ** 20} MiB) laid on ${deviceOf(rec)} from ${pair.name(side)}; DRBD carries it to the other host`,
        );
      }
      ctx.log(`the guest ${rec.guest!.name} is ready to start on both hosts (${guestArgsPath(rec.guest!.name)})`);
    },
    verify: async (ctx) => {
      if (!(await inPlace(svc.pair(ctx.params.hosts), svc.stored()!, false)))
        throw err('cluster-guest-stage', 'The guest is not in place on both hosts (its kernel, initrd, tap in br0 or argument file is missing).', {
          fix: 'On each host: `df -h /var/lib/lockstep /etc/lockstep` (room to write) and `ip link show br0` (the bridge the guest’s tap joins); then: lockstep cluster setup',
          step: 'cluster-guest-stage',
        });
    },
  };
}

/** Where the guest runs now, as Pacemaker reports it: only on the node where DRBD is promoted. */
export async function guestNode(pair: HostPair, rec: ClusterStored): Promise<string | null> {
  if (!rec.guest) return null;
  for (const s of SIDES) {
    const m = await monOf(pair, s);
    if (!m) continue;
    const on = runningOn(m, ids(rec.drbdResource, rec.guest.name).vm!);
    return on !== null && on === promotedNode(m, ids(rec.drbdResource).clone) ? on : null;
  }
  return null;
}

/** The guest started by Pacemaker on the promoted host (its boot is the client's business). */
export function guestRunningStep(svc: ClusterContext): Step<ClusterSetupParams> {
  return {
    id: 'cluster-guest-running',
    title: 'Wait until Pacemaker runs the guest where DRBD is promoted',
    probe: async (ctx) => !svc.stored()!.guest || (await guestNode(svc.pair(ctx.params.hosts), svc.stored()!)) !== null,
    apply: async () => {},
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params.hosts);
      const rec = svc.stored()!;
      const on = await pollUntil(async () => (await guestNode(pair, rec)) ?? undefined, { timeoutMs: 180_000, intervalMs: 1000, signal: ctx.signal });
      if (!on)
        throw err('cluster-guest-not-running', `Pacemaker has not started the guest ${rec.guest!.name} on the promoted host within 3 minutes.`, {
          fix: `crm_mon -1 shows the failed start; /run/lockstep-guest/${rec.guest!.name}.log on that host holds QEMU's words. Then: lockstep cluster setup`,
          step: 'cluster-guest-running',
        });
      ctx.log(`Pacemaker runs the guest ${rec.guest!.name} on ${on} (${rec.guest!.address})`);
    },
  };
}
