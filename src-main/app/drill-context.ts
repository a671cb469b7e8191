/** The core hands drills the pair through a narrow context (drill/drill-context.ts): lockstep's tools stay in lockstep. */
import type { DrillContext, DrillPair } from '../drill/drill-context.js';
import { LockstepError } from '../contract/index.js';
import { vmPaths, HOST_PATHS } from '../hosts/vm-layout.js';
import { killQemu, pidOf } from '../hosts/vm-process.js';
import type { LockstepService } from '../lockstep/lockstep-service.js';
import { failedOverRecord } from '../lockstep/observed-failover.js';
import { vmFiles, type PairRecord } from '../lockstep/pair-record.js';

function drillPair(lockstep: LockstepService, r: PairRecord): DrillPair {
  return {
    primary: r.primary,
    secondary: r.secondary,
    guestAddress: r.guestAddress,
    ...(r.vm?.port !== undefined ? { guestPort: r.vm.port } : {}),
    vm: (role) => {
      const p = vmPaths(HOST_PATHS.run, vmFiles(r, role));
      return { pid: p.pid, qmp: p.qmp };
    },
    armAgents: async () => {
      if (!lockstep.agents) throw new LockstepError({ code: 'no-agents', message: 'No host agent tools: drills let the host agents act.' });
      return lockstep.agents.ensureArmed(r);
    },
    failedOver: (how, at) => lockstep.pairs.set(failedOverRecord(r, how, at)),
  };
}

export function drillContext(lockstep: LockstepService): DrillContext {
  const d = lockstep.deps;
  return {
    hosts: d.hosts,
    bus: d.bus,
    lab: d.lab,
    link: d.link,
    distDir: d.distDir,
    status: () => lockstep.status(),
    pair: () => {
      const r = lockstep.record();
      return r && drillPair(lockstep, r);
    },
    // the core sets lockstep's agents after it built the services: read them when the drill runs
    get agents() {
      return lockstep.agents;
    },
    vmPidFiles: (['primary', 'secondary'] as const).map((files) => vmPaths(HOST_PATHS.run, files).pid),
    pidOf,
    killVm: killQemu,
  };
}
