import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import ErrorWithFix from '../../src-renderer/components/ErrorWithFix.svelte';
import ProgressBar from '../../src-renderer/components/ProgressBar.svelte';
import PlanCard from '../../src-renderer/components/PlanCard.svelte';

describe('ErrorWithFix', () => {
  it('shows the message, the cause and a copyable fix', () => {
    render(ErrorWithFix, {
      error: {
        code: 'host-key-changed',
        message: 'The host key of hostA changed.',
        cause: 'SHA256:aaa ≠ SHA256:bbb',
        fix: 'lockstep hosts forget hostA',
        host: 'hostA',
      },
    });
    expect(screen.getByRole('alert').textContent).toContain('The host key of hostA changed.');
    expect(screen.getByTestId('fix').textContent).toBe('lockstep hosts forget hostA');
    expect(screen.getByRole('button', { name: 'Copy the fix' })).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toContain('host hostA');
  });
  it('renders hostile text as text, not markup', () => {
    render(ErrorWithFix, { error: { code: 'x', message: '<img src=x onerror=alert(1)>' } });
    expect(document.querySelector('img')).toBeNull();
    expect(screen.getByRole('alert').textContent).toContain('<img src=x');
  });
});

describe('ProgressBar', () => {
  it('shows percent, rate and ETA', () => {
    render(ProgressBar, { progress: { fraction: 0.375, message: 'Initial sync', rate: 37 * 1024 * 1024, rateUnit: 'B', etaSeconds: 75 } });
    expect(screen.getByTestId('percent').textContent).toBe('37.5%');
    expect(screen.getByTestId('rate').textContent).toBe('37.0 MiB/s');
    expect(screen.getByTestId('eta').textContent).toBe('ETA 1m 15s');
    expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('37.5');
  });
  it('is indeterminate without a fraction', () => {
    render(ProgressBar, { progress: { fraction: null, message: 'Waiting for peer' } });
    expect(screen.queryByTestId('percent')).toBeNull();
    expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBeNull();
  });
});

describe('PlanCard', () => {
  it('marks each step and shows the failure with its fix', () => {
    render(PlanCard, {
      plan: {
        id: 'p1',
        kind: 'k',
        title: 'Set up the link',
        state: 'failed',
        createdAt: 0,
        updatedAt: 0,
        steps: [
          { id: 'a', title: 'Find the cable', state: 'skipped', applied: 0 },
          { id: 'b', title: 'Address it', state: 'failed', applied: 1 },
        ],
        error: { code: 'overlap', message: '10.99.0.0/30 overlaps a route on hostB', fix: 'lockstep link setup --cidr 10.98.0.0/30', step: 'b' },
      },
    });
    expect(screen.getByText('(already so)')).toBeTruthy();
    expect(screen.getByTestId('fix').textContent).toContain('--cidr 10.98.0.0/30');
  });
});
