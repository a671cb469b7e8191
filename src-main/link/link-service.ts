import type { EventBus } from '../app/event-bus.js';
import { LockstepError } from '../contract/index.js';
import type { LinkStatus } from '../contract/link.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';

export interface LinkDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
}

/** The crossover replication link: find the cable, address, MTU, persist, measure (wires src-main/link/* to SSH). */
export class LinkService {
  constructor(readonly deps: LinkDeps) {}

  async setup(_i: { a: string; b: string; subnet: string; mtu: 'auto' | '1500' | '9000' }): Promise<LinkStatus> {
    throw new LockstepError({ code: 'not-implemented', message: 'Link setup is being built.' });
  }

  async status(): Promise<LinkStatus> {
    return { state: 'none' };
  }

  async remove(): Promise<LinkStatus> {
    throw new LockstepError({ code: 'not-implemented', message: 'Link removal is being built.' });
  }
}
