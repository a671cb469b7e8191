import type { ClientChannel } from 'ssh2';
import { LockstepError } from '../contract/index.js';
import type { SshSession } from './ssh-session.js';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  at: number;
}

/** Pure: splits QMP's newline-delimited JSON; keeps the unfinished tail. */
export function splitQmpLines(buffer: string): { messages: unknown[]; rest: string } {
  const messages: unknown[] = [];
  let rest = buffer;
  let i: number;
  while ((i = rest.indexOf('\n')) >= 0) {
    const line = rest.slice(0, i).trim();
    rest = rest.slice(i + 1);
    if (!line) continue;
    try {
      messages.push(JSON.parse(line));
    } catch {
      // QEMU only writes JSON on QMP; a broken line is dropped, not fatal
    }
  }
  return { messages, rest };
}

/**
 * A QMP connection to a QEMU on a host, through SSH (`socat` to the unix socket).
 * Every call has a deadline; events are buffered (STOP/RESUME bursts are counted, not kept).
 */
export class Qmp {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly events: QmpEvent[] = [];
  private greeted?: () => void;
  closed = false;

  private constructor(
    private readonly channel: ClientChannel,
    readonly where: string,
  ) {
    channel.on('data', (d: Buffer) => this.onData(String(d)));
    channel.on('close', () => {
      this.closed = true;
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new LockstepError({ code: 'qmp-closed', message: `The QMP connection to ${where} closed.` }));
      }
      this.pending.clear();
    });
  }

  static async open(session: SshSession, socket: string, opts: { oob?: boolean; timeoutMs?: number } = {}): Promise<Qmp> {
    const ch = await session.stream(['socat', '-', `UNIX-CONNECT:${socket}`]);
    const q = new Qmp(ch, `${socket} on ${session.target.address}`);
    // QEMU serves one QMP client at a time: a connection left open after a failed open would hold
    // the monitor for ever (and every later open would time out), so a failed open always closes it
    try {
      await q.greet(opts.timeoutMs ?? 5000);
      await q.exec('qmp_capabilities', opts.oob ? { enable: ['oob'] } : undefined);
    } catch (e) {
      q.close();
      throw e;
    }
    return q;
  }

  private greet(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new LockstepError({ code: 'qmp-timeout', message: `QEMU did not greet on ${this.where}.`, fix: 'Is the VM running? lockstep lockstep status' }),
          ),
        timeoutMs,
      );
      this.greeted = () => {
        clearTimeout(t);
        resolve();
      };
      this.channel.on('close', () => {
        clearTimeout(t);
        reject(new LockstepError({ code: 'qmp-unreachable', message: `Cannot open QMP ${this.where} (is QEMU running?).` }));
      });
    });
  }

  private onData(s: string): void {
    const { messages, rest } = splitQmpLines(this.buffer + s);
    this.buffer = rest;
    for (const m of messages as Record<string, unknown>[]) {
      if ('QMP' in m) this.greeted?.();
      else if ('event' in m) {
        const ev = String(m.event);
        if (ev === 'STOP' || ev === 'RESUME') continue;
        this.events.push({ event: ev, data: m.data as Record<string, unknown> | undefined, at: Date.now() });
        if (this.events.length > 500) this.events.splice(0, 100);
      } else if (typeof m.id === 'number') {
        const p = this.pending.get(m.id);
        if (!p) continue;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if ('error' in m) {
          const err = m.error as { class?: string; desc?: string };
          p.reject(new LockstepError({ code: 'qmp-error', message: `QEMU refused: ${err.desc ?? 'error'}`, cause: err.class }));
        } else p.resolve(m.return);
      }
    }
  }

  exec<T = unknown>(command: string, args?: Record<string, unknown>, opts: { timeoutMs?: number; oob?: boolean } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new LockstepError({ code: 'qmp-closed', message: `The QMP connection to ${this.where} is closed.` }));
    const id = this.nextId++;
    const msg: Record<string, unknown> = { [opts.oob ? 'exec-oob' : 'execute']: command, id };
    if (args) msg.arguments = args;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new LockstepError({ code: 'qmp-timeout', message: `QEMU did not answer ${command} within ${(opts.timeoutMs ?? 5000) / 1000} s (${this.where}).` }),
        );
      }, opts.timeoutMs ?? 5000);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.channel.write(JSON.stringify(msg) + '\n');
    });
  }

  close(): void {
    if (!this.closed) this.channel.close();
    this.closed = true;
  }
}
