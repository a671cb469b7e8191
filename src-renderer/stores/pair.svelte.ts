import type { AgentStatus, AppEvent, DrillReport, ErrorDTO, LinkStatus, MirrorStatusDTO, PairStatus } from '../../src-main/contract/index.js';
import { api } from '../api.js';

const HISTORY = 90;
/** drill refusals that hold only until the pair is in lockstep again */
const NOT_NOW = ['pair-starting', 'not-in-lockstep'];

/**
 * Link, mirror, lockstep and agent state: pushed by the core's one pair watcher (`pair-observed`,
 * every 2 s while a window is open), read once when a view opens and after every action. The
 * window itself never polls.
 */
class PairState {
  link = $state<LinkStatus | null>(null);
  mirror = $state<MirrorStatusDTO | null>(null);
  pair = $state<PairStatus | null>(null);
  agents = $state<AgentStatus | null>(null);
  checkpointsPerSecond = $state<number[]>([]);
  pauseMs = $state<number[]>([]);
  drills = $state<DrillReport[]>([]);
  drilling = $state<string | null>(null);
  /** when the running drill started (for its progress) */
  drillStartedAt = $state(0);
  error = $state<ErrorDTO | null>(null);
  /** the first refresh has answered */
  loaded = $state(false);
  private off?: () => void;
  private users = 0;

  start(): () => void {
    this.users++;
    if (!this.off) {
      this.off = api.onEvent((e) => {
        if (e.type === 'pair-observed') this.take(e);
      });
      void this.refresh();
    }
    return () => {
      this.users--;
      if (this.users === 0 && this.off) {
        this.off();
        this.off = undefined;
      }
    };
  }

  private take(e: Extract<AppEvent, { type: 'pair-observed' }>): void {
    if (e.link) this.link = e.link;
    if (e.mirror) this.mirror = e.mirror;
    if (e.agents) this.agents = e.agents;
    if (e.pair) {
      this.pair = e.pair;
      // a refusal that only said "not now" is over once the pair is back in lockstep
      if (e.pair.state === 'lockstep' && this.error && NOT_NOW.includes(this.error.code)) this.error = null;
      if (e.pair.state === 'lockstep') {
        this.checkpointsPerSecond = [...this.checkpointsPerSecond, e.pair.checkpointsPerSecond].slice(-HISTORY);
        if (e.pair.checkpointPauseMsP50 !== null) this.pauseMs = [...this.pauseMs, e.pair.checkpointPauseMsP50].slice(-HISTORY);
      }
    }
    this.loaded = true;
  }

  /** Reads everything once (a view opened, an action ended). */
  async refresh(): Promise<void> {
    const [link, mirror, pair, agents] = await Promise.all([
      api.call('link.status', {}),
      api.call('mirror.status', {}),
      api.call('lockstep.status', {}),
      api.call('agent.status', {}),
    ]);
    this.take({
      type: 'pair-observed',
      at: Date.now(),
      link: link.ok ? link.value : null,
      mirror: mirror.ok ? mirror.value : null,
      pair: pair.ok ? pair.value : null,
      agents: agents.ok ? agents.value : null,
    });
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
