/** Step 7 of `link setup`: what each host needs to keep the link after a reboot, and writing it. */

import type { Step } from '../tasks/step.js';
import type { HostCommand, Side } from '../hosts/command.js';
import {
  choosePersistence,
  existingFileAction,
  parseExisting,
  parseNmUnmanaged,
  parseUnitsActive,
  persistenceFactCommands,
  persistPlan,
  sourcesInterfacesD,
  writeFileCommand,
  type PersistPlan,
} from './persist.js';
import { HostPair, other, readFileExact, SIDES, err } from '../hosts/pair-exec.js';
import type { LinkSetupParams, LinkWork, LinkContext } from './link-record.js';
import { endState, linkEndsOf } from './observe.js';

/** What each host would need to keep the link after a reboot, from what it runs. Read-only. */
export async function persistencePlans(svc: LinkContext, p: LinkSetupParams, w: LinkWork): Promise<Record<Side, { plan: PersistPlan; why: string }>> {
  const pair = svc.pair(p);
  const ends = linkEndsOf(svc, p, w);
  const out = {} as Record<Side, { plan: PersistPlan; why: string }>;
  for (const side of SIDES) {
    const e = ends.find((x) => x.side === side)!;
    const far = ends.find((x) => x.side === other(side))!;
    const c = persistenceFactCommands(e.nic);
    const units = parseUnitsActive((await pair.exec(side, c.units)).stdout);
    const ifaces = await pair.exec(side, c.interfaces);
    const nmUnmanaged = units.networkManagerActive ? parseNmUnmanaged((await pair.exec(side, c.nmDevice)).stdout) : false;
    const choice = choosePersistence(
      { ...units, interfacesSourcesDir: ifaces.code === 0 && sourcesInterfacesD(ifaces.stdout), interfacesExists: ifaces.code === 0, nmUnmanaged },
      pair.name(side),
    );
    const plan = persistPlan(side, choice, {
      nic: e.nic,
      mac: e.mac,
      address: e.address,
      mtu: w.mtu!.mtu,
      peer: `${pair.name(other(side))} ${far.nic} ${far.address.split('/')[0]}`,
    });
    out[side] = { plan, why: choice.why };
  }
  return out;
}

/** 7. Make the link survive a reboot with what each host uses (or say that it will not). */
export function persistStep(svc: LinkContext): Step<LinkSetupParams> {
  const pending = async (pair: HostPair, plans: Record<Side, { plan: PersistPlan }>) => {
    const out: { side: Side; files: PersistPlan['files']; activate: HostCommand[] }[] = [];
    for (const side of SIDES) {
      const files = [];
      for (const f of plans[side].plan.files) {
        const existing = parseExisting(await readFileExact(pair, side, f.path));
        if (existingFileAction(existing, f, pair.name(side)) !== 'unchanged') files.push(f);
      }
      if (files.length) out.push({ side, files, activate: plans[side].plan.activate });
    }
    return out;
  };
  return {
    id: 'link-persist',
    title: 'Make the link survive a reboot (systemd-networkd, NetworkManager or ifupdown)',
    probe: async (ctx) => {
      const w = svc.work(ctx.planId);
      w.persist = await persistencePlans(svc, ctx.params, w);
      svc.saveWork(w);
      return (await pending(svc.pair(ctx.params), w.persist)).length === 0;
    },
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const w = svc.work(ctx.planId);
      for (const todo of await pending(pair, w.persist!)) {
        for (const f of todo.files) await pair.run(writeFileCommand(todo.side, f), 'link-persist');
        await pair.runAll(todo.activate, 'link-persist');
        ctx.log(`${pair.name(todo.side)}: wrote ${todo.files.map((f) => f.path).join(', ')} (${w.persist![todo.side].why})`);
      }
    },
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params);
      const w = svc.work(ctx.planId);
      const left = await pending(pair, w.persist!);
      if (left.length)
        throw err('link-persist', `${left.map((l) => l.files.map((f) => `${pair.name(l.side)} ${f.path}`).join(', ')).join(', ')} not written as planned.`, {
          fix: 'Check the file system of the host (read-only? full?), then run `lockstep link setup` again.',
          step: 'link-persist',
        });
      // activating a network service may have re-applied the NIC: the link must still be there
      for (const e of linkEndsOf(svc, ctx.params, w))
        if (!(await endState(svc, pair, e)).applied)
          throw err('link-persist', `${pair.name(e.side)} ${e.nic} lost ${e.address} when its network service took over.`, {
            fix: 'Run `lockstep link setup` again; if it repeats, check the network configuration of that host.',
            host: pair.hosts[e.side].hostId,
            step: 'link-persist',
          });
    },
  };
}
