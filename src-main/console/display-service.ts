import type { Duplex } from 'node:stream';
import { LockstepError } from '../contract/index.js';
import type { HostsService } from '../hosts/hosts-service.js';

/** Where a VM's screen is: asked of the lockstep service (QEMU's VNC unix socket on its host). */
export type VmDisplayLocator = (side: 'primary' | 'secondary') => Promise<{ host: string; socket: string; title: string }>;

export interface DisplayStream {
  title: string;
  /** the RFB byte stream of QEMU's VNC server, through the app's SSH connection to the host */
  stream: Duplex;
}

/** Graphical consoles of the VMs: one RFB stream per viewer (QEMU's VNC server takes several clients). */
export class DisplayService {
  locator?: VmDisplayLocator;
  private readonly open = new Set<Duplex>();

  constructor(private readonly deps: { hosts: HostsService }) {}

  async connect(side: 'primary' | 'secondary'): Promise<DisplayStream> {
    if (!this.locator)
      throw new LockstepError({
        code: 'no-vm',
        message: 'No protected guest: there is no screen to show.',
        fix: 'lockstep lockstep protect HOST_A HOST_B --disk …',
      });
    const loc = await this.locator(side);
    const stream = await (await this.deps.hosts.session(loc.host)).openUnixSocket(loc.socket);
    this.open.add(stream);
    stream.once('close', () => this.open.delete(stream));
    return { title: loc.title, stream };
  }

  closeAll(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
  }
}
