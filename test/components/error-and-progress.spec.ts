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
    // a CLI command is only the terminal alternative
    expect(screen.getByTestId('terminal-fix').textContent).toBe('lockstep hosts forget hostA');
    expect(screen.getByRole('alert').textContent).toContain('from a terminal:');
    expect(screen.getByRole('button', { name: 'Copy the command' })).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toContain('on hostA');
  });
  it('names the field and the action of a refused input by their labels, never the command id', () => {
    render(ErrorWithFix, {
      action: 'Scan',
      field: { cidr: 'Network to scan' },
      error: {
        code: 'bad-request',
        message: 'Invalid cidr for hosts.discover: an IPv4 network from /16 to /32, like 192.168.1.0/24.',
        cause: 'cidr: an IPv4 network from /16 to /32',
        fix: 'See `lockstep hosts discover --help` for the accepted values.',
      },
    });
    const text = screen.getByRole('alert').textContent ?? '';
    expect(text).toContain('“Network to scan” (Scan): must be an IPv4 network');
    expect(screen.getByTestId('fix').textContent).toContain('Correct “Network to scan”, then press Scan again.');
    expect(screen.getByTestId('terminal-fix').textContent).toBe('lockstep hosts discover --help');
    expect(text.replace(screen.getByTestId('terminal-fix').textContent ?? '', '')).not.toMatch(/hosts\.discover|lockstep /);
  });
  it('puts command ids and flags of other messages in the window’s words; drops step ids', () => {
    render(ErrorWithFix, {
      error: { code: 'x', message: 'Run link.setup first, then give --cidr.', step: 'link-subnet', fix: 'Use Remove the link in the window.' },
    });
    const text = screen.getByRole('alert').textContent ?? '';
    expect(text).toContain('Run “Set up the link” first, then fill in “Network to scan”.');
    expect(text).not.toContain('link-subnet');
    expect(screen.queryByTestId('terminal-fix')).toBeNull();
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
    expect(screen.getByTestId('terminal-fix').textContent).toContain('--cidr 10.98.0.0/30');
  });
});
