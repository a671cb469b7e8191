import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { AgentHostStatus, AgentStatus } from '../../src-main/contract/agent.js';
import AgentStatusView from '../../src-renderer/components/AgentStatusView.svelte';

const host = (over: Partial<AgentHostStatus>): AgentHostStatus => ({
  host: '198.18.77.11:22',
  name: 'hostA',
  role: 'primary',
  how: 'direct',
  state: 'protected',
  armed: true,
  reason: '',
  vm: 'up',
  peer: { crossoverMs: 12, publicMs: 1500 },
  witness: { address: '198.18.77.1:7790', reachable: true, rttMs: 1, peerAgeMs: 30 },
  action: { last: null, running: false, rc: null, durationMs: null, startedAt: null, finishedAt: null },
  decisions: [],
  log: [],
  ...over,
});

const deployed: AgentStatus = {
  state: 'deployed',
  cluster: 'c1',
  deployedAt: 0,
  timeoutMs: 300,
  summary: 'Armed on both hosts.',
  hosts: [
    host({}),
    host({
      host: '198.18.77.12:22',
      name: 'hostB',
      role: 'secondary',
      state: 'took-over',
      armed: false,
      reason: 'peer silent on both paths',
      action: { last: 'failover', running: false, rc: 0, durationMs: 71, startedAt: 1, finishedAt: 2 },
    }),
  ],
  witness: { kind: 'local', address: '198.18.77.1:7790', state: 'serving', heard: { primary: 40, secondary: null } },
};

describe('AgentStatusView', () => {
  it('one row per host: armed or not, the peer on each path, the witness, the last action', () => {
    render(AgentStatusView, { status: deployed });
    expect(screen.getByTestId('agents-state').textContent).toContain('Armed on both hosts.');
    expect(screen.getByTestId('agents-state').textContent).toContain('silent for 300 ms');
    const rows = screen.getAllByTestId('agent-row').map((r) => r.textContent ?? '');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/hostA.*primary.*armed.*protected.*up.*12 ms ago \/ 1\.5 s ago.*reachable \(1 ms\).*none/);
    expect(rows[1]).toMatch(/hostB.*secondary.*not armed.*took-over.*peer silent on both paths.*failover ✓.*71 ms/);
    expect(screen.getByTestId('witness').textContent).toMatch(/this machine.*serving.*primary 40 ms ago, the secondary never/);
  });

  it('not deployed and stopped say what that means for the pair', () => {
    const { unmount } = render(AgentStatusView, { status: { state: 'not-deployed', why: 'No protected pair.' } });
    expect(screen.getByTestId('agents-state').textContent).toMatch(/Not deployed: without the app running, nothing fails over\. No protected pair\./);
    unmount();
    render(AgentStatusView, { status: { state: 'stopped', cluster: 'c1', stoppedAt: Date.UTC(2026, 0, 1) } });
    expect(screen.getByTestId('agents-state').textContent).toContain('fails over only while the app watches it');
  });

  it('renders hostile text from a host as text, not markup', () => {
    render(AgentStatusView, { status: { ...deployed, hosts: [host({ reason: '<img src=x onerror=alert(1)>' })] } as AgentStatus });
    expect(document.querySelector('img')).toBeNull();
    expect(screen.getByTestId('agent-row').textContent).toContain('<img src=x');
  });
});
