import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { setDoor, type Door } from '../../src-renderer/api.js';
import VncConsole from '../../src-renderer/components/VncConsole.svelte';
import ConsolesView from '../../src-renderer/views/ConsolesView.svelte';
import type { PairStatus } from '../../src-main/contract/index.js';
import { lockstep } from './pair-fixtures.js';

/** A door like Electron's preload bridge: commands and events, but no local server for a screen. */
const noScreenDoor: Door = { kind: 'electron', invoke: () => Promise.resolve({ ok: true, value: null }), onEvent: () => () => {} };

describe('VncConsole', () => {
  it('the secondary starts view-only and says that input there is undone by the next checkpoint', () => {
    setDoor(noScreenDoor);
    render(VncConsole, { side: 'secondary', label: 'Screen — secondary VM' });
    expect(screen.getByTestId('vnc-secondary-note').textContent).toContain('input here is undone by the next checkpoint');
    expect((screen.getByRole('checkbox') as HTMLInputElement).checked).toBe(false);
  });

  it('the primary takes input; without the local server it says where the screen is served instead of failing silently', () => {
    setDoor(noScreenDoor);
    render(VncConsole, { side: 'primary', label: 'Screen — primary VM' });
    expect(screen.queryByTestId('vnc-secondary-note')).toBeNull();
    expect((screen.getByRole('checkbox') as HTMLInputElement).checked).toBe(true);
    const region = screen.getByRole('region', { name: 'Screen — primary VM' });
    expect(region.dataset.state).toBe('closed');
    expect(region.textContent).toContain('lockstep serve');
  });
});

describe('ConsolesView: screens for a user VM only', () => {
  const doorWith = (pair: PairStatus): Door => ({
    kind: 'electron',
    invoke: (name) =>
      Promise.resolve(
        name === 'lockstep.status'
          ? { ok: true, value: pair }
          : name === 'hosts.list'
            ? { ok: true, value: [] }
            : { ok: false, error: { code: 'x', message: 'not in this test', fix: 'none' } },
      ),
    onEvent: () => () => {},
  });

  it('the demo guest has no screen: the view says so and keeps the serial consoles', async () => {
    setDoor(doorWith(lockstep));
    render(ConsolesView);
    expect((await screen.findByTestId('no-screen')).textContent).toContain('The demo guest has no screen');
    expect(screen.queryByTestId('screens')).toBeNull();
    expect(screen.getByRole('region', { name: 'Guest — primary VM' })).toBeTruthy();
  });

  it('a user VM gets both screens above the serial consoles', async () => {
    setDoor(doorWith({ ...lockstep, vm: { source: 'hostA:/img.qcow2', memoryMiB: 256, cpus: 1 } }));
    render(ConsolesView);
    await screen.findByTestId('screens');
    expect(screen.getAllByTestId('vnc').map((e) => e.dataset.side)).toEqual(['primary', 'secondary']);
    expect(screen.queryByTestId('no-screen')).toBeNull();
  });
});
