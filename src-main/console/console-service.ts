import { randomUUID } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import type { EventBus } from '../events/event-bus.js';
import type { ConsoleDTO, ConsoleTarget } from '../contract/console.js';
import { LockstepError } from '../contract/index.js';
import type { HostsService } from '../hosts/hosts-service.js';

const BACKLOG = 64 * 1024;

/** Where a VM's serial console is: asked of the lockstep service. */
export type VmConsoleLocator = (side: 'primary' | 'secondary') => Promise<{ host: string; argv: string[]; title: string }>;

interface Stream {
  id: string;
  key: string;
  title: string;
  target: ConsoleTarget;
  channel: ClientChannel;
  backlog: string;
  open: boolean;
}

/** Serial consoles of the VMs and host shells, as streams shared by every window. */
export class ConsoleService {
  private readonly streams = new Map<string, Stream>();
  vmLocator?: VmConsoleLocator;

  constructor(private readonly deps: { hosts: HostsService; bus: EventBus }) {}

  async open(target: ConsoleTarget, size: { cols: number; rows: number }): Promise<ConsoleDTO> {
    // a VM's serial socket takes ONE client: streams are keyed by what they connect to, so
    // "primary" after a failover reuses the survivor's console that was opened as "secondary"
    let key: string;
    let title: string;
    let connect: () => Promise<ClientChannel>;
    if (target.kind === 'host') {
      const h = this.deps.hosts.resolve(target.host);
      key = `host:${h.hostId}`;
      title = `${h.name} shell`;
      connect = async () => (await this.deps.hosts.session(h)).shell(size.cols, size.rows);
    } else {
      if (!this.vmLocator)
        throw new LockstepError({
          code: 'no-vm',
          message: 'No protected guest: there is no VM console to open.',
          fix: 'lockstep lockstep protect HOST_A HOST_B',
        });
      const loc = await this.vmLocator(target.side);
      key = `vm:${loc.host}:${loc.argv.join(' ')}`;
      title = loc.title;
      connect = async () => (await this.deps.hosts.session(loc.host)).stream(loc.argv);
    }
    for (const existing of this.streams.values()) {
      if (existing.open && existing.key === key) return this.dto(existing);
    }
    const channel = await connect();
    const s: Stream = { id: randomUUID(), key, title, target, channel, backlog: '', open: true };
    this.streams.set(s.id, s);
    channel.on('data', (d: Buffer) => {
      const data = d.toString('utf8');
      s.backlog = (s.backlog + data).slice(-BACKLOG);
      this.deps.bus.emit({ type: 'console-printed', streamId: s.id, data });
    });
    channel.stderr?.on('data', (d: Buffer) => {
      const data = d.toString('utf8');
      s.backlog = (s.backlog + data).slice(-BACKLOG);
      this.deps.bus.emit({ type: 'console-printed', streamId: s.id, data });
    });
    channel.on('close', () => {
      s.open = false;
      this.deps.bus.emit({ type: 'console-closed', streamId: s.id, reason: 'The console ended (the VM or the connection went away).' });
    });
    return this.dto(s);
  }

  input(streamId: string, data: string): void {
    const s = this.get(streamId);
    s.channel.write(data);
  }

  resize(streamId: string, cols: number, rows: number): void {
    const s = this.get(streamId);
    if (s.target.kind === 'host') s.channel.setWindow(rows, cols, 0, 0);
  }

  close(streamId: string): void {
    const s = this.streams.get(streamId);
    if (!s) return;
    s.channel.close();
    s.open = false;
    this.streams.delete(streamId);
  }

  list(): ConsoleDTO[] {
    return [...this.streams.values()].map((s) => this.dto(s));
  }

  closeAll(): void {
    for (const id of [...this.streams.keys()]) this.close(id);
  }

  private get(id: string): Stream {
    const s = this.streams.get(id);
    if (!s || !s.open) throw new LockstepError({ code: 'console-closed', message: 'This console is closed.', fix: 'Open it again from the Consoles view.' });
    return s;
  }

  private dto(s: Stream): ConsoleDTO {
    return { streamId: s.id, title: s.title, target: s.target, backlog: s.backlog, open: s.open };
  }
}
