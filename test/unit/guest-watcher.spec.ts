import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppEvent, GuestPeekDTO, Result } from '../../src-main/contract/index.js';
import { GuestWatcher } from '../../src-main/app/guest-watcher.js';

const peek: GuestPeekDTO = { count: 7, boot: 'b1', host: 'hostA', ms: 3, address: '198.18.77.50' };

function watcher(answer: () => Promise<Result<GuestPeekDTO>> = async () => ({ ok: true, value: peek })) {
  const events: AppEvent[] = [];
  let calls = 0;
  let inFlight = 0;
  let overlapped = false;
  const w = new GuestWatcher(
    async () => {
      calls++;
      inFlight++;
      overlapped ||= inFlight > 1;
      try {
        return await answer();
      } finally {
        inFlight--;
      }
    },
    (e) => events.push(e),
    500,
  );
  return { w, events, calls: () => calls, overlapped: () => overlapped };
}

afterEach(() => vi.useRealTimers());

describe("the guest watcher (one reader of the guest's counter, however many booth windows)", () => {
  it('peeks nothing until a window leases it, then pushes guest-peeked twice a second until the lease ends', async () => {
    vi.useFakeTimers();
    const { w, events, calls } = watcher();
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls()).toBe(0);
    const until = w.lease(3000);
    expect(until).toBe(Date.now() + 3000);
    await vi.advanceTimersByTimeAsync(2900);
    expect(events.length).toBe(6);
    expect(events[0]).toMatchObject({ type: 'guest-peeked', peek, error: null });
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls()).toBe(6);
    expect(w.active).toBe(false);
  });

  it('leases from several windows keep one reader running until the last ends; a failed peek is pushed as its error', async () => {
    vi.useFakeTimers();
    const { w, events, calls } = watcher(async () => ({ ok: false, error: { code: 'no-guest', message: 'No guest is running.' } }));
    w.lease(1000);
    await vi.advanceTimersByTimeAsync(400);
    w.lease(2000);
    w.lease(500);
    await vi.advanceTimersByTimeAsync(1500);
    expect(calls()).toBe(4);
    expect(events.at(-1)).toMatchObject({ type: 'guest-peeked', peek: null, error: { code: 'no-guest' } });
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls()).toBe(5); // the last at 2000 ms, inside the longest lease (2400 ms)
  });

  it('a slow guest never gets two peeks at once; stop() ends the pushes', async () => {
    vi.useFakeTimers();
    const { w, calls, overlapped } = watcher(() => new Promise((r) => setTimeout(() => r({ ok: true, value: peek }), 1200)));
    w.lease(10_000);
    w.lease(10_000);
    await vi.advanceTimersByTimeAsync(5000);
    expect(overlapped()).toBe(false);
    expect(calls()).toBe(5);
    w.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls()).toBe(5);
  });
});
