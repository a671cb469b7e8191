/**
 * Host maintenance on the namespace lab, as its scenarios drive it (issue 20): enter maintenance on a
 * host while an ordinary HTTP client and a TCP stream watch the guest, power the host off and on for
 * real, exit; the guest served the whole time (no acknowledged write lost, TCP kept) and the pair is
 * back in lockstep. One fixture per test file (its own prefix and /24). Used by
 * test/lab/maintenance.spec.ts (the primary's host, with failback) and
 * test/long/maintenance-secondary.spec.ts (the secondary's host).
 */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import type { AgentStatus, ClientProbeResult, LabStatus, MaintenanceStatus, PairStatus } from '../../src-main/contract/index.js';
import { diskCount } from './guest-disk.js';
import { labEnv } from './lab-env.js';
import { cli, cliBin } from './processes.js';

export function maintenanceLab(PREFIX: string, net: string) {
  const { env, home } = labEnv(PREFIX, net);
  type Res<T> = { ok: boolean; value: T; error?: { code: string; message: string; cause?: string; fix?: string } };
  function run<T>(args: string[], timeoutMs = 120_000): Res<T> {
    const r = cli([...args, '--json'], env, timeoutMs);
    try {
      return JSON.parse(r.stdout) as Res<T>;
    } catch {
      throw new Error(`not JSON from ${args.join(' ')} (exit ${r.code}): ${r.stdout} ${r.stderr}`);
    }
  }
  /** The CLI without blocking this process (a client that runs while the test acts). */
  function runAsync<T>(args: string[]): Promise<Res<T>> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cliBin, ...args, '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += String(d)));
      child.stderr.on('data', (d: Buffer) => (err += String(d)));
      child.on('exit', () => {
        try {
          resolve(JSON.parse(out) as Res<T>);
        } catch {
          reject(new Error(`not JSON from ${args.join(' ')}: ${out} ${err}`));
        }
      });
    });
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const value = <T>(o: Res<T>, what: string): T => {
    if (!o.ok) {
      console.log(cli(['events', 'list', '--limit', '40'], env).stdout);
      throw new Error(`${what}: ${JSON.stringify(o.error)}`);
    }
    return o.value;
  };

  async function answers(): Promise<number> {
    for (let i = 0; i < 120; i++) {
      const r = run<ClientProbeResult>(['lab', 'client', 'http', '--seconds', '1', '--interval-ms', '100']);
      if (r.ok && r.value.answers > 0) return (r.value.last as { count: number }).count;
      await sleep(1000);
    }
    throw new Error('the guest never answered');
  }

  /** Figures across the cycles, printed at the end as the bench's `name: value` lines. */
  const figures: { switchoverGapMs: number[]; unprotectedSeconds: number[]; resyncBytes: number[] } = {
    switchoverGapMs: [],
    unprotectedSeconds: [],
    resyncBytes: [],
  };

  /** One cycle on `host`: enter, power off + on, exit (with --failback: the primary moves back); clients watching throughout. */
  async function cycle(host: 'hostA' | 'hostB', other: 'hostA' | 'hostB', role: 'primary' | 'secondary', failback = false) {
    const before = await answers();
    // long enough for enter + a power cycle + a re-protect with a full copy under TCG; cut short below
    const seconds = failback ? 200 : 150;
    const http = runAsync<ClientProbeResult>(['lab', 'client', 'http', '--seconds', String(seconds), '--interval-ms', '50']);
    const stream = runAsync<ClientProbeResult>(['lab', 'client', 'stream', '--seconds', String(seconds)]);
    const t0 = Date.now();
    await sleep(3000);

    const entered = value(run<MaintenanceStatus>(['host', 'maintenance', 'enter', host], 300_000), 'enter');
    expect(entered.state).toBe('in-maintenance');
    if (entered.state !== 'in-maintenance') return;
    expect(entered.say).toBe(`${host} can be rebooted now; the guest runs unprotected on ${other}.`);
    expect(entered.risk).toContain(`If ${other} fails`);
    expect(entered.report.hostRole).toBe(role);
    console.log(`${host} in maintenance: ${entered.say} ${entered.risk}`);
    expect(value(run<PairStatus>(['lockstep', 'status']), 'status')).toMatchObject({ state: 'maintenance', survivor: { name: other }, host: { name: host } });
    // the agents are held: nobody fails over or raises an alarm while the host is away
    const ag = value(run<AgentStatus>(['agent', 'status']), 'agent status');
    if (ag.state === 'deployed') for (const h of ag.hosts) if (h.state !== 'unreachable') expect(h.armed, h.name).toBe(false);

    // the reboot, for real: every process of the host killed, NICs down; then up again (sshd starts)
    value(run<LabStatus>(['lab', 'power', host, 'off'], 120_000), 'power off');
    await sleep(3000);
    expect(value(run<PairStatus>(['lockstep', 'status']), 'status').state).toBe('maintenance');
    value(run<LabStatus>(['lab', 'power', host, 'on'], 120_000), 'power on');

    const exited = value(run<MaintenanceStatus>(['host', 'maintenance', 'exit', host, ...(failback ? ['--failback'] : [])], 600_000), 'exit');
    expect(exited.state).toBe('protected');
    if (exited.state !== 'protected') return;
    console.log(`${host} back: ${exited.say}; report: ${JSON.stringify({ ...exited.report, gaps: undefined })}`);
    for (const g of exited.report.gaps)
      console.log(
        `  ${g.what} ${g.from} → ${g.to}: ordinary client gap ${g.ordinaryClientMs} ms, TCP stream gap ${g.streamMs} ms (survived ${g.streamSurvived}), step ${g.stepMs} ms`,
      );
    const pair = value(run<PairStatus>(['lockstep', 'status']), 'status');
    expect(pair).toMatchObject(
      failback
        ? { state: 'lockstep', primary: { name: host }, secondary: { name: other } }
        : { state: 'lockstep', primary: { name: other }, secondary: { name: host } },
    );
    expect(exited.report.primaryNow).toBe(failback ? host : other);
    const cycleMs = Date.now() - t0;

    // stop the clients' watch early: a fresh short probe proves the guest still answers; the long ones end at their time
    const [h, st] = [await http, await stream];
    expect(h.ok, JSON.stringify(h.error)).toBe(true);
    expect(st.ok, JSON.stringify(st.error)).toBe(true);
    console.log(
      `${host} (${role}) maintenance cycle ${(cycleMs / 1000).toFixed(0)} s: ordinary client (lab client http, every 50 ms) longest gap ${h.value.longestGapMs} ms, ` +
        `${h.value.failures} failed of ${h.value.attempts}; TCP stream longest gap ${st.value.longestGapMs} ms${st.value.error ? ` (${st.value.error})` : ''}`,
    );
    expect(h.value.wentBackwards).toBe(false);
    expect(h.value.answers).toBeGreaterThan(100);
    // served the whole time: a switchover and a re-protect's join each pause the guest around a second under TCG
    expect(h.value.longestGapMs).toBeLessThan(10_000);
    expect(st.value.error, 'the TCP stream survived').toBeUndefined();
    expect(st.value.wentBackwards).toBe(false);
    expect(await answers()).toBeGreaterThan(before);
    // no acknowledged write lost: the serving host's disk (read from the machine) holds the last count a client was given
    const acked = (h.value.last as { count: number }).count;
    const serving = failback ? host : other;
    let onDisk: number | null = null;
    for (let i = 0; i < 20 && (onDisk ?? -1) < acked; i++, await sleep(500)) onDisk = diskCount(home.path, PREFIX, serving).count;
    expect(onDisk, `${serving}'s disk holds the last acknowledged count ${acked}`).toBeGreaterThanOrEqual(acked);

    const r = exited.report;
    expect(r.protectedAt).not.toBeNull();
    expect(r.resyncBytes).toBeGreaterThan(0);
    expect(r.unprotectedSeconds).toBeGreaterThan(0);
    if (role === 'primary') {
      expect(r.gaps.find((g) => g.what === 'enter')).toBeDefined();
      if (failback) expect(r.gaps.map((g) => g.what)).toEqual(['enter', 'reprotect', 'failback', 'reprotect']);
      for (const g of r.gaps.filter((x) => x.what !== 'reprotect')) {
        expect(g.streamSurvived, `${g.what}: the TCP stream survived`).toBe(true);
        expect(g.wentBackwards).toBe(false);
      }
      expect(r.switchoverGapMs).not.toBeNull();
      figures.switchoverGapMs.push(r.switchoverGapMs!);
    } else expect(r.gaps.some((g) => g.what === 'enter')).toBe(false);
    figures.unprotectedSeconds.push(r.unprotectedSeconds);
    figures.resyncBytes.push(r.resyncBytes);
    // the agents are armed again for the new roles
    const armed = value(run<AgentStatus>(['agent', 'status']), 'agent status');
    if (armed.state === 'deployed') for (const x of armed.hosts) expect(x.armed, `${x.name} armed again`).toBe(true);
  }

  /** Lab up, hosts added, the guest protected and answering, the agents deployed. */
  async function up(): Promise<void> {
    cli(['lab', 'down'], env, 120_000);
    value(run<LabStatus>(['lab', 'up'], 300_000), 'lab up');
    value(run(['hosts', 'add-lab']), 'add lab hosts');
    value(run<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB'], 300_000), 'protect');
    await answers();
    value(run<AgentStatus>(['agent', 'deploy'], 300_000), 'agent deploy');
  }

  function down(): void {
    cli(['agent', 'stop'], env, 60_000);
    cli(['lockstep', 'stop'], env, 60_000);
    cli(['lab', 'down'], env, 120_000);
    home.remove();
  }

  return { env, home, run, value, answers, cycle, figures, up, down };
}
