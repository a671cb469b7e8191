import type { AgentStatus, AppEvent, LinkStatus, MirrorStatusDTO, PairStatus, Result } from '../contract/index.js';

type Observe = {
  link: () => Promise<Result<LinkStatus>>;
  mirror: () => Promise<Result<MirrorStatusDTO>>;
  pair: () => Promise<Result<PairStatus>>;
  agents: () => Promise<Result<AgentStatus>>;
};

/**
 * One watcher for the pair, however many windows are open: while at least one window watches,
 * it observes link, mirror, lockstep and agents every `intervalMs` (over SSH) and pushes one
 * `pair-observed` event; windows subscribe instead of polling. Observations never overlap.
 */
export class PairWatcher {
  private watchers = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private running = false;

  constructor(
    private readonly observe: Observe,
    private readonly emit: (e: AppEvent) => void,
    private readonly intervalMs = 2000,
  ) {}

  /** A window starts watching; call the returned function when it goes. */
  watch(): () => void {
    this.watchers++;
    if (this.watchers === 1) this.schedule(0);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.watchers--;
      if (this.watchers === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  get active(): boolean {
    return this.watchers > 0;
  }

  private schedule(ms: number): void {
    if (this.timer || this.watchers === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, ms);
    this.timer.unref?.();
  }

  /** Observe once now (after an action, or on a tick) and push what was seen. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const [link, mirror, pair, agents] = await Promise.all([this.observe.link(), this.observe.mirror(), this.observe.pair(), this.observe.agents()]);
      this.emit({
        type: 'pair-observed',
        at: Date.now(),
        link: link.ok ? link.value : null,
        mirror: mirror.ok ? mirror.value : null,
        pair: pair.ok ? pair.value : null,
        agents: agents.ok ? agents.value : null,
      });
    } finally {
      this.running = false;
      this.schedule(this.intervalMs);
    }
  }
}
