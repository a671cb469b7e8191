import type { AppEvent, GuestPeekDTO, Result } from '../contract/index.js';

/**
 * One reader of the guest's counter, however many booth windows are open: while a lease runs
 * (`guest.watch`, renewed by each booth window) it peeks every `intervalMs` and pushes one
 * `guest-peeked` event; windows subscribe instead of polling. Peeks never overlap, and a window
 * that goes without saying so only keeps the pushes going until its lease ends.
 */
export class GuestWatcher {
  private until = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private running = false;

  constructor(
    private readonly peek: () => Promise<Result<GuestPeekDTO>>,
    private readonly emit: (e: AppEvent) => void,
    private readonly intervalMs = 500,
  ) {}

  /** Pushes for at least `ms` from now; returns when the pushes end (ms since epoch). */
  lease(ms: number): number {
    this.until = Math.max(this.until, Date.now() + ms);
    if (!this.running) this.schedule(0);
    return this.until;
  }

  get active(): boolean {
    return Date.now() < this.until;
  }

  stop(): void {
    this.until = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.timer || !this.active) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.active) void this.tick();
    }, ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const started = Date.now();
    try {
      const r = await this.peek();
      this.emit({ type: 'guest-peeked', at: Date.now(), peek: r.ok ? r.value : null, error: r.ok ? null : r.error });
    } finally {
      this.running = false;
      // the next peek half a second after this one began (as the window's own timer did)
      this.schedule(Math.max(0, this.intervalMs - (Date.now() - started)));
    }
  }
}
