import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AGENT_PATHS,
  INIT_PROBE,
  clusterId,
  directStartArgv,
  failoverArgv,
  parseHostPort,
  renderAgentConfig,
  renderUnit,
  secretText,
  type AgentPlan,
} from '../../src-main/agent/agent-config.js';
import { root } from '../helpers/processes.js';

const plan = (over: Partial<AgentPlan> = {}): AgentPlan => ({
  role: 'secondary',
  cluster: 'ls-0a1b2c3d4e5f',
  crossoverLocal: '10.99.0.2',
  crossoverPeer: '10.99.0.1',
  publicLocal: '198.18.81.12',
  publicPeer: '198.18.81.11',
  witness: '198.18.81.100:7790',
  vmFiles: 'secondary',
  ...over,
});

const conf = (text: string) =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(' = ') as [string, string]),
  );

describe('agent config (pure)', () => {
  it('secondary: both paths, the witness, its VM watched, failover through its second QMP monitor', () => {
    const c = conf(renderAgentConfig(plan()));
    expect(c).toMatchObject({
      role: 'secondary',
      cluster_id: 'ls-0a1b2c3d4e5f',
      secret_file: '/etc/lockstep/agent.key',
      crossover_local: '10.99.0.2:7788',
      crossover_peer: '10.99.0.1:7788',
      public_local: '198.18.81.12:7788',
      public_peer: '198.18.81.11:7788',
      witness: '198.18.81.100:7790',
      interval_ms: '20',
      timeout_ms: '300',
      rearm_ms: '1000',
      vm_pidfile: '/run/lockstep/vm/secondary.pid',
      failover_cmd: '/var/lib/lockstep/agent/colo-failover --side secondary --qmp /run/lockstep/vm/secondary-qmp-oob.sock',
      status_socket: '/run/lockstep/agent.sock',
      log_file: '/var/lib/lockstep/agent/agent.log',
    });
    expect(c.continue_cmd).toBeUndefined();
  });

  it('primary: continue alone (also on a cut crossover: never two primaries) with its OOB monitor and replication node', () => {
    const c = conf(
      renderAgentConfig(plan({ role: 'primary', crossoverLocal: '10.99.0.1', crossoverPeer: '10.99.0.2', vmFiles: 'primary', replNode: 'replication2' })),
    );
    const cmd =
      '/var/lib/lockstep/agent/colo-failover --side primary --qmp /run/lockstep/vm/primary-qmp.sock --qmp-oob /run/lockstep/vm/primary-qmp-oob.sock --repl-node replication2';
    expect(c.continue_cmd).toBe(cmd);
    expect(c.degraded_cmd).toBe(cmd);
    expect(c.failover_cmd).toBeUndefined();
    expect(c.vm_pidfile).toBe('/run/lockstep/vm/primary.pid');
  });

  it('a survivor re-protected as primary keeps its secondary file set', () => {
    expect(failoverArgv({ role: 'primary', vmFiles: 'secondary', replNode: 'replication1' })).toEqual([
      AGENT_PATHS.failover,
      '--side',
      'primary',
      '--qmp',
      '/run/lockstep/vm/secondary-qmp.sock',
      '--qmp-oob',
      '/run/lockstep/vm/secondary-qmp-oob.sock',
      '--repl-node',
      'replication1',
    ]);
  });

  it('refuses anything that is not what it should be', () => {
    const bad: Partial<AgentPlan>[] = [
      { cluster: 'has space' },
      { cluster: 'x'.repeat(17) },
      { cluster: 'a\nrole = primary' },
      { crossoverLocal: '10.99.0.256' },
      { publicPeer: 'host.example' },
      { publicLocal: '198.18.81.11' },
      { witness: '198.18.81.1' },
      { witness: '198.18.81.1:0' },
      { witness: '198.18.81.1:7790\nfailover_cmd = /bin/sh' },
      { role: 'primary', replNode: 'x;rm -rf /' },
      { role: 'witness' as never },
      { timeoutMs: 40 },
      { intervalMs: 200, timeoutMs: 500 },
      { port: 70000 },
    ];
    for (const b of bad) expect(() => renderAgentConfig(plan(b)), JSON.stringify(b)).toThrow(/Refusing/);
  });

  it('addresses, ids and secrets', () => {
    expect(parseHostPort('198.18.81.1:7790')).toEqual({ address: '198.18.81.1', port: 7790 });
    for (const s of ['198.18.81.1', '1.2.3.4:99999', '01.2.3.4:1', 'a.b.c.d:1', '1.2.3.4:1:2']) expect(parseHostPort(s)).toBeNull();
    expect(clusterId(new Uint8Array([1, 2, 3, 4, 5, 255, 9]))).toBe('ls-0102030405ff');
    expect(secretText(new Uint8Array(32).fill(0xab))).toBe('ab'.repeat(32) + '\n');
    expect(() => secretText(new Uint8Array(8))).toThrow();
  });

  it('systemd unit restarts a dead agent at once; direct start is a supervisor in its own session', () => {
    const u = renderUnit();
    expect(u).toContain(`ExecStart=${AGENT_PATHS.agent} --config ${AGENT_PATHS.config}`);
    expect(u).toContain('Restart=always');
    expect(u).toContain('RestartSec=0');
    const argv = directStartArgv();
    expect(argv.slice(0, 3)).toEqual(['setsid', '-f', 'sh']);
    expect(argv.slice(-4)).toEqual([AGENT_PATHS.pid, AGENT_PATHS.agent, AGENT_PATHS.config, AGENT_PATHS.log]);
    expect(INIT_PROBE).toContain('/proc/1/ns/net');
  });

  const agent = join(root, 'dist/native/agent/lockstep-agent');
  it.skipIf(!existsSync(agent))('the agent itself accepts the rendered configs (--check-config) with the same commands', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lsa-conf-'));
    try {
      const key = join(dir, 'key');
      writeFileSync(key, secretText(new Uint8Array(32).fill(7)));
      for (const p of [
        plan(),
        plan({ role: 'primary', crossoverLocal: '10.99.0.1', crossoverPeer: '10.99.0.2', vmFiles: 'primary', replNode: 'replication0' }),
      ]) {
        const file = join(dir, 'agent.conf');
        writeFileSync(file, renderAgentConfig(p).replace(AGENT_PATHS.key, key));
        const r = spawnSync(agent, ['--check-config', '--config', file], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        const parsed = JSON.parse(r.stdout) as Record<string, unknown>;
        expect(parsed).toMatchObject({
          role: p.role,
          cluster_id: p.cluster,
          witness: p.witness,
          secret_bytes: 64,
          vm_pidfile: `/run/lockstep/vm/${p.vmFiles}.pid`,
        });
        expect(parsed[p.role === 'secondary' ? 'failover_cmd' : 'continue_cmd']).toEqual(failoverArgv(p));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
