import type { CommandName, Output, ParsedInput } from '../contract/index.js';
import type { Core } from './core.js';
import { LockstepError } from '../contract/index.js';
import { drillReportHtml } from '../drill/report-html.js';
import { peekGuest } from '../lockstep/guest-peek.js';
import { runClientProbe } from '../virtual-lab/client-door.js';
import { unprotectAny } from './unprotect-any.js';

export type Handlers = { [K in CommandName]: (input: ParsedInput<K>) => Promise<Output<K>> };

/** Maps every command of the contract to the service that does it. */
export function makeHandlers(core: Core): Handlers {
  return {
    'app.info': async () => ({
      name: 'Lockstep Lab',
      version: core.version,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      home: core.home,
      database: core.database,
      pid: process.pid,
      startedAt: core.startedAt,
      door: core.options.door,
    }),
    'events.list': async (i) => core.store.events.list(i),
    'events.note': async (i) => core.bus.log('info', 'user', i.message),
    'tasks.list': async () => core.runner.list(),
    'tasks.cancel': async (i) => core.runner.cancel(i.planId),
    'lab.up': async (i) => core.lab.up(i),
    'lab.status': async () => core.lab.status(),
    'lab.power': async (i) => (i.state === 'off' ? core.lab.powerOff(i.host) : core.lab.powerOn(i.host)),
    'lab.split': async (i) => core.lab.split(i.state === 'on'),
    'lab.down': async () => core.lab.down(),
    'lab.client': async (i) => runClientProbe(core.lab, i),
    'hosts.discover': async (i) => core.hosts.discover({ cidr: i.cidr, ports: i.ports.split(',').map(Number) }),
    'hosts.add': async (i) => core.hosts.add(i),
    'hosts.addLab': async () => core.hosts.addLab(),
    'hosts.list': async () => core.hosts.list(),
    'hosts.forget': async (i) => core.hosts.forget(i.host),
    'lockstep.protect': async (i) => core.lockstep.protect(i),
    'lockstep.status': async () => core.unprotect.status(),
    'lockstep.reprotect': async (i) => core.lockstep.reprotect(false, { verify: i.verify }),
    'lockstep.failover': async () => core.lockstep.failover(),
    'lockstep.stop': async () => core.lockstep.stop(),
    'lockstep.unprotect': async (i) => unprotectAny(core, i),
    'host.maintenance': async (i) => {
      if (i.action === 'status') return core.maintenance.status();
      if (!i.host)
        throw new LockstepError({
          code: 'no-host',
          message: `Which host? maintenance ${i.action} needs one.`,
          fix: `lockstep host maintenance ${i.action} HOST`,
        });
      return i.action === 'enter' ? core.maintenance.enter(i.host) : core.maintenance.exit(i.host, i.failback);
    },
    'agent.deploy': async (i) => core.agent.deploy(i),
    'agent.status': async () => core.agent.status(),
    'agent.stop': async () => core.agent.stop(),
    'drill.run': async (i) => core.drills.run(i),
    'drill.list': async () => core.drills.list(),
    'guest.peek': async () => {
      // no SSH: the guest keeps its address while it starts, runs alone or is re-protected
      const r = core.lockstep.record();
      const address = r && r.state !== 'stopped' ? r.guestAddress : undefined;
      if (!address) throw new LockstepError({ code: 'no-guest', message: 'No guest is running.', fix: 'Protect the guest first (Setup → Protect).' });
      return peekGuest(address);
    },
    'guest.watch': async (i) => ({ until: core.guestWatcher.lease(i.seconds * 1000) }),
    'drill.export': async (i) => {
      const r = core.drills.list().find((d) => d.id === i.id);
      if (!r) throw new LockstepError({ code: 'not-found', message: `No drill ${i.id}.`, fix: 'lockstep drill list' });
      return { filename: `lockstep-drill-${r.id}-${r.mode}.html`, html: drillReportHtml(r, core.version) };
    },
    'preflight.run': async (i) => core.preflight.run(i),
    'preflight.last': async () => core.preflight.last(),
    'link.setup': async (i) => core.link.setup(i),
    'link.status': async () => core.link.status(),
    'link.remove': async () => core.link.remove(),
    'mirror.setup': async (i) => core.mirror.setup(i),
    'cluster.setup': async (i) => core.cluster.setup(i),
    'cluster.status': async () => core.cluster.status(),
    'cluster.remove': async (i) => core.cluster.remove(i),
    'mirror.skip': async () => core.mirror.skip(),
    'mirror.status': async () => core.mirror.status(),
    'mirror.verify': async () => core.mirror.verify(),
    'mirror.switch': async (i) => core.mirror.switchPrimary(i.primary),
    'mirror.resolve': async (i) => core.mirror.resolve(i.survivor),
    'console.open': async (i) => core.consoles.open(i.target, { cols: i.cols, rows: i.rows }),
    'console.input': async (i) => (core.consoles.input(i.streamId, i.data), { ok: true as const }),
    'console.resize': async (i) => (core.consoles.resize(i.streamId, i.cols, i.rows), { ok: true as const }),
    'console.close': async (i) => (core.consoles.close(i.streamId), { ok: true as const }),
    'console.list': async () => core.consoles.list(),
    'vm.list': async (i) => core.vm.list(i),
    'vm.inspect': async (i) => core.vm.inspect(i),
  };
}
