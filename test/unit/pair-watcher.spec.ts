import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppEvent } from '../../src-main/contract/index.js';
import { PairWatcher } from '../../src-main/app/pair-watcher.js';

const none =
  <T>(value: T) =>
  async () => ({ ok: true as const, value });

function watcher(intervalMs = 100) {
  const events: AppEvent[] = [];
  let calls = 0;
  const w = new PairWatcher(
    {
      link: async () => (calls++, { ok: true as const, value: { state: 'none' as const } }),
      mirror: none({ state: 'none' as const }),
      pair: async () => ({ ok: false as const, error: { code: 'x', message: 'no pair' } }),
      agents: none({ state: 'none' as const } as never),
    },
    (e) => events.push(e),
    intervalMs,
  );
  return { w, events, calls: () => calls };
}

afterEach(() => vi.useRealTimers());

describe('the pair watcher (one per app, however many windows)', () => {
  it('observes nothing until a window watches, then pushes pair-observed on every tick', async () => {
    vi.useFakeTimers();
    const { w, events, calls } = watcher();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls()).toBe(0);
    const off = w.watch();
    await vi.advanceTimersByTimeAsync(350);
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events[0]).toMatchObject({ type: 'pair-observed', link: { state: 'none' }, pair: null });
    off();
    const n = calls();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls()).toBe(n);
  });

  it('two windows share one loop; it stops only when the last one goes', async () => {
    vi.useFakeTimers();
    const { w, calls } = watcher();
    const a = w.watch();
    const b = w.watch();
    await vi.advanceTimersByTimeAsync(450);
    expect(calls()).toBeLessThanOrEqual(5); // one observation per tick, not one per window
    a();
    a(); // calling twice does not count twice
    expect(w.active).toBe(true);
    b();
    expect(w.active).toBe(false);
  });
});
