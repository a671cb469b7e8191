import { LockstepError } from '../contract/index.js';
import type { DrillMode, DrillReport, PairStatus } from '../contract/lockstep.js';
import type { EventBus } from '../app/event-bus.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';
import type { VirtualLab } from '../virtual-lab/lab-service.js';

export interface LockstepDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  lab: VirtualLab;
  nativeDir: string;
  distDir: string;
}

const notYet = () => new LockstepError({ code: 'not-implemented', message: 'Lockstep protection is being built.', fix: 'Use a later build.' });

/** QEMU COLO: protect a guest on two hosts, watch it, fail over, drill. */
export class LockstepService {
  constructor(readonly deps: LockstepDeps) {}

  async protect(_i: { a: string; b: string }): Promise<PairStatus> {
    throw notYet();
  }

  async status(): Promise<PairStatus> {
    return { state: 'unprotected', why: 'No guest has been protected yet.' };
  }

  async failover(): Promise<PairStatus> {
    throw notYet();
  }

  async stop(): Promise<PairStatus> {
    throw notYet();
  }

  async drill(_i: { mode: DrillMode }): Promise<DrillReport> {
    throw notYet();
  }

  listDrills(): DrillReport[] {
    return [];
  }
}
