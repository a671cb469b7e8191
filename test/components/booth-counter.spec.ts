// Booth mode shows the guest's counter as the core pushes it (`guest-peeked`): the window leases the
// core's one reader (`guest.watch`) and never polls guest.peek itself.
import { render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src-main/contract/index.js';
import { setDoor, type Door } from '../../src-renderer/api.js';
import BoothView from '../../src-renderer/views/BoothView.svelte';

function fakeDoor() {
  const calls: string[] = [];
  const listeners = new Set<(e: AppEvent) => void>();
  const answers: Record<string, unknown> = {
    'hosts.list': [],
    'drill.list': [],
    'link.status': { state: 'none' },
    'mirror.status': { state: 'none' },
    'lockstep.status': { state: 'unprotected' },
    'agent.status': { state: 'not-deployed', why: 'x' },
    'guest.watch': { until: Date.now() + 25_000 },
  };
  const door: Door = {
    kind: 'web',
    invoke: async (name) => {
      calls.push(name);
      return name in answers ? { ok: true, value: answers[name] } : { ok: false, error: { code: 'x', message: name } };
    },
    onEvent: (l) => {
      listeners.add(l as (e: AppEvent) => void);
      return () => listeners.delete(l as (e: AppEvent) => void);
    },
  };
  return { door, calls, push: (e: AppEvent) => listeners.forEach((l) => l(e)), listeners };
}

describe('booth counter', () => {
  it('leases the core’s reader and shows what it pushes; no guest.peek from the window', async () => {
    const f = fakeDoor();
    setDoor(f.door);
    const view = render(BoothView, { onexit: () => {} });
    await tick();
    expect(f.calls).toContain('guest.watch');
    expect(screen.getByTestId('booth-counter').textContent).toBe('—');
    f.push({ type: 'guest-peeked', at: Date.now(), peek: { count: 41, boot: 'b', host: 'hostB', ms: 2, address: '198.18.77.50' }, error: null });
    await tick();
    expect(screen.getByTestId('booth-counter').textContent).toBe('41');
    expect(screen.getByText(/answered by hostB/)).toBeTruthy();
    f.push({ type: 'guest-peeked', at: Date.now(), peek: null, error: { code: 'no-guest', message: 'No guest is running.' } });
    await tick();
    expect(screen.getByTestId('booth-counter').textContent).toBe('41');
    expect(f.calls).not.toContain('guest.peek');
    const before = f.listeners.size;
    view.unmount();
    expect(f.listeners.size).toBeLessThan(before);
  });
});
