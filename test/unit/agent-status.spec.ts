import { describe, expect, it } from 'vitest';
import { agentHostStatus, firstJsonLine, summarize, witnessHeard } from '../../src-main/agent/agent-status.js';
import { failedOverRecord, observedFailover } from '../../src-main/lockstep/observed-failover.js';
import type { PairRecord } from '../../src-main/lockstep/pair-record.js';
import type { WitnessStatus } from '../../src-main/contract/agent.js';

const meta = { host: '198.18.81.12:22', name: 'hostB', role: 'secondary' as const, how: 'direct' as const };

// one line as lockstep-agent --once-status prints it (status.c), after it took over
const tookOver = JSON.stringify({
  v: 1,
  agent: 'lockstep-agent',
  mode: 'peer',
  cluster: 'ls-1',
  role: 'secondary',
  state: 'took-over',
  armed: false,
  held: false,
  reason: 'failover command succeeded',
  vm: 'up',
  paths: { crossover: { last_heard_ms: 5200 }, public: { last_heard_ms: 5190 } },
  witness: { address: '198.18.81.100:7790', reachable: true, rtt_ms: 0.2, peer_age_ms: 5100 },
  action: { running: false, last: 'failover', rc: 0, duration_ms: 180, started_at: 1700000000300, finished_at: 1700000000480 },
  decisions: [
    { at: 't1', from: 'waiting', to: 'protected', action: 'none', reason: 'armed' },
    { at: 't2', from: 'protected', to: 'acting', action: 'failover', reason: 'primary silent on both paths for 301 ms' },
    { at: 't3', from: 'acting', to: 'took-over', action: 'none', reason: 'failover command succeeded' },
  ],
});

describe('agent status (pure)', () => {
  it('reads an agent that took over: state, action with its times, decisions', () => {
    const s = agentHostStatus(meta, firstJsonLine(`noise\n${tookOver}\n`), ['log line']);
    expect(s).toMatchObject({
      state: 'took-over',
      armed: false,
      vm: 'up',
      peer: { crossoverMs: 5200, publicMs: 5190 },
      witness: { reachable: true, peerAgeMs: 5100 },
      action: { last: 'failover', rc: 0, durationMs: 180, startedAt: 1700000000300, finishedAt: 1700000000480 },
      log: ['log line'],
    });
    expect(s.decisions.map((d) => d.action)).toEqual(['none', 'failover', 'none']);
    expect(s.error).toBeUndefined();
  });

  it('a silent agent, garbage, or fields of the wrong type never pass as armed', () => {
    expect(agentHostStatus(meta, firstJsonLine('{"v":1,"state":"not-running","error":"/run/lockstep/agent.sock: No such file"}'), [])).toMatchObject({
      state: 'not-running',
      armed: false,
      error: '/run/lockstep/agent.sock: No such file',
    });
    expect(firstJsonLine('not json')).toBeNull();
    expect(firstJsonLine('{"broken":')).toBeNull();
    const weird = agentHostStatus(meta, { mode: 'peer', state: 7, armed: 'yes', paths: [], decisions: 'x', action: null }, []);
    expect(weird).toMatchObject({ state: 'unknown', armed: false, peer: { crossoverMs: null }, decisions: [], action: { last: null } });
    expect(witnessHeard(firstJsonLine('{"mode":"witness","heard":{"primary":12,"secondary":null}}'))).toEqual({
      state: 'serving',
      heard: { primary: 12, secondary: null },
    });
    expect(witnessHeard(null).state).toBe('not-running');
  });

  it('summary: acted first, then who is missing, then armed', () => {
    const w: WitnessStatus = { kind: 'local', address: '198.18.81.100:7790', state: 'serving', heard: null };
    const armed = { ...agentHostStatus(meta, firstJsonLine(tookOver), []), state: 'protected', armed: true };
    const prim = { ...armed, name: 'hostA', role: 'primary' as const };
    expect(summarize([prim, armed], w)).toMatch(/^Armed on both hosts/);
    expect(summarize([prim, armed], { ...w, state: 'not-running' })).toMatch(/never act/);
    expect(summarize([{ ...prim, state: 'not-running', armed: false }, armed], w)).toMatch(/No agent answers on hostA/);
    expect(summarize([{ ...prim, state: 'not-running', armed: false }, agentHostStatus(meta, firstJsonLine(tookOver), [])], w)).toBe(
      'hostB (secondary) took-over after failover',
    );
  });
});

describe('a failover the app did not do (pure)', () => {
  it('secondary in mode none and the primary VM gone or its host unreachable: the secondary took over', () => {
    expect(observedFailover({ primaryMode: null, secondaryMode: 'none', primaryVmAlive: false, secondaryVmAlive: true })).toBe('secondary-took-over');
    expect(observedFailover({ primaryMode: null, secondaryMode: 'none', primaryVmAlive: null, secondaryVmAlive: true })).toBe('secondary-took-over');
    expect(observedFailover({ primaryMode: 'none', secondaryMode: null, primaryVmAlive: true, secondaryVmAlive: false })).toBe('primary-alone');
  });

  it('never on a pair still in COLO, both VMs alive, a monitor that is only busy, or nothing left', () => {
    expect(observedFailover({ primaryMode: 'primary', secondaryMode: 'secondary', primaryVmAlive: true, secondaryVmAlive: true })).toBeNull();
    expect(observedFailover({ primaryMode: 'none', secondaryMode: 'none', primaryVmAlive: true, secondaryVmAlive: true })).toBeNull();
    // the primary's monitor did not answer but its QEMU runs (another client holds the socket)
    expect(observedFailover({ primaryMode: null, secondaryMode: 'none', primaryVmAlive: true, secondaryVmAlive: true })).toBeNull();
    // the host answers SSH, only the monitor is silent: not proof the primary is gone
    expect(observedFailover({ primaryMode: 'primary', secondaryMode: 'none', primaryVmAlive: null, secondaryVmAlive: true })).toBeNull();
    expect(observedFailover({ primaryMode: null, secondaryMode: null, primaryVmAlive: false, secondaryVmAlive: false })).toBeNull();
    expect(observedFailover({ primaryMode: null, secondaryMode: 'secondary', primaryVmAlive: false, secondaryVmAlive: true })).toBeNull();
  });

  it('records it as the app’s own failover does', () => {
    const r: PairRecord = {
      state: 'lockstep',
      primary: 'A:22',
      secondary: 'B:22',
      accel: 'tcg',
      qemuMajor: 7,
      xa: '10.99.0.1',
      xb: '10.99.0.2',
      guestAddress: '198.18.81.50',
      guestCidr: '198.18.81.50/24',
      since: 1,
      diskSync: 'full-copy',
      primaryVm: 'primary',
      replNode: 'replication0',
    };
    expect(failedOverRecord(r, 'secondary-took-over', 99)).toMatchObject({
      state: 'failed-over',
      primary: 'B:22',
      lost: 'A:22',
      xa: '10.99.0.2',
      xb: '10.99.0.1',
      primaryVm: 'secondary',
      failedAt: 99,
    });
    expect(failedOverRecord(r, 'primary-alone', 99)).toMatchObject({ state: 'failed-over', primary: 'A:22', lost: 'B:22', xa: '10.99.0.1', failedAt: 99 });
  });
});
