import type { EventBus } from '../app/event-bus.js';
import { LockstepError } from '../contract/index.js';
import type { MirrorStatusDTO } from '../contract/link.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { LinkService } from '../link/link-service.js';
import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';

export interface MirrorDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  link: LinkService;
}

const notYet = () => new LockstepError({ code: 'not-implemented', message: 'The DRBD mirror is being built.' });

/** The DRBD mirror over the link (wires src-main/mirror/* to SSH). */
export class MirrorService {
  constructor(readonly deps: MirrorDeps) {}

  async setup(_i: { diskA?: string; diskB?: string; wipe: string[]; blank: boolean }): Promise<MirrorStatusDTO> {
    throw notYet();
  }

  async status(): Promise<MirrorStatusDTO> {
    return { state: 'none' };
  }

  async verify(): Promise<MirrorStatusDTO> {
    throw notYet();
  }

  async switchPrimary(_primary: string): Promise<MirrorStatusDTO> {
    throw notYet();
  }

  async resolve(_survivor: string): Promise<MirrorStatusDTO> {
    throw notYet();
  }
}
