import type { ProgressDTO } from '../contract/index.js';

/**
 * Turns "done so far / total" samples into progress with a smoothed rate and ETA.
 * Pure: time is passed in.
 */
export class RateEstimator {
  private last?: { t: number; done: number };
  private rate?: number;

  constructor(
    private readonly total: number,
    private readonly unit: string,
    private readonly alpha = 0.3,
  ) {}

  sample(done: number, nowMs: number, message: string): ProgressDTO {
    if (this.last && nowMs > this.last.t) {
      const inst = ((done - this.last.done) * 1000) / (nowMs - this.last.t);
      this.rate = this.rate === undefined ? inst : this.alpha * inst + (1 - this.alpha) * this.rate;
    }
    this.last = { t: nowMs, done };
    const p: ProgressDTO = { fraction: this.total > 0 ? Math.min(1, done / this.total) : null, message };
    if (this.rate !== undefined && this.rate > 0) {
      p.rate = this.rate;
      p.rateUnit = this.unit;
      p.etaSeconds = Math.max(0, (this.total - done) / this.rate);
    }
    return p;
  }
}
