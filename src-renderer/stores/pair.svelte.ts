import type { DrillReport, ErrorDTO, LinkStatus, MirrorStatusDTO, PairStatus } from '../../src-main/contract/index.js';
import { api } from '../api.js';

const HISTORY = 90;

/** Link, mirror and lockstep state, re-observed every 2 s (and after every action). */
class PairState {
  link = $state<LinkStatus | null>(null);
  mirror = $state<MirrorStatusDTO | null>(null);
  pair = $state<PairStatus | null>(null);
  checkpointsPerSecond = $state<number[]>([]);
  pauseMs = $state<number[]>([]);
  drills = $state<DrillReport[]>([]);
  drilling = $state<string | null>(null);
  /** when the running drill started (for its progress) */
  drillStartedAt = $state(0);
  error = $state<ErrorDTO | null>(null);
  /** the first refresh has answered */
  loaded = $state(false);
  private timer?: ReturnType<typeof setInterval>;
  private users = 0;

  start(): () => void {
    this.users++;
    if (!this.timer) {
      void this.refresh();
      this.timer = setInterval(() => void this.refresh(), 2000);
    }
    return () => {
      this.users--;
      if (this.users === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  async refresh(): Promise<void> {
    const [l, m, p] = await Promise.all([api.call('link.status', {}), api.call('mirror.status', {}), api.call('lockstep.status', {})]);
    if (l.ok) this.link = l.value;
    if (m.ok) this.mirror = m.value;
    if (p.ok) {
      this.pair = p.value;
      if (p.value.state === 'lockstep') {
        this.checkpointsPerSecond = [...this.checkpointsPerSecond, p.value.checkpointsPerSecond].slice(-HISTORY);
        if (p.value.checkpointPauseMsP50 !== null) this.pauseMs = [...this.pauseMs, p.value.checkpointPauseMsP50].slice(-HISTORY);
      }
    }
    this.loaded = true;
  }

  async loadDrills(): Promise<void> {
    const r = await api.call('drill.list', {});
    if (r.ok) this.drills = r.value;
  }

  async drill(mode: DrillReport['mode']): Promise<DrillReport | null> {
    this.drilling = mode;
    this.drillStartedAt = Date.now();
    this.error = null;
    const r = await api.call('drill.run', { mode });
    this.drilling = null;
    await this.refresh();
    await this.loadDrills();
    if (r.ok) return r.value;
    this.error = r.error;
    return null;
  }
}

export const pairState = new PairState();
