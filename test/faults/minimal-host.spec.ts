/**
 * Bad input from a host: hosts that answer SSH but have a minimal userland (busybox sh, ip and
 * ping, busybox's other applets, no os-release), our own fixture (./minimal-host.ts, real sshd).
 * - preflight names each missing program or capability with its fix (an unknown distribution: the
 *   program and the feature);
 * - `link setup` ends with ONE clear error (JSON, exit 1, no stack trace, no exit after a success);
 * - for EVERY program of the inventory, a host that lacks it gets a finding (or, for sh and env, a
 *   clear error) that names it with a fix.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PreflightReport } from '../../src-main/contract/index.js';
import { HOST_PROGRAMS } from '../../src-main/hosts/inventory.js';
import { runCli } from '../../src-main/transports/cli/run-cli.js';
import { labEnv } from '../helpers/lab-env.js';
import { cliBin } from '../helpers/processes.js';
import { labCli, type Res } from '../helpers/lab-cli.js';
import { minimalPair, MU_NET, MU_PREFIX, type MinimalHost } from './minimal-host.js';

const { env, home } = labEnv(MU_PREFIX, MU_NET);
const cli = labCli(env);
const fixture = minimalPair();
let hosts: [MinimalHost, MinimalHost];

beforeAll(async () => {
  const up = await fixture.up();
  hosts = up.hosts;
  for (const h of hosts) cli.ok(['hosts', 'add', h.address, '--key-file', up.keyFile, '--accept-fingerprint', h.fingerprint]);
  // the in-process CLI (the parametrised scenario) reads the same home
  Object.assign(process.env, env);
});

afterAll(() => {
  fixture.down();
  home.remove();
});

/** `runCli` in this process (what bin.js runs), its --json result captured. */
async function inProcess<T>(args: string[]): Promise<{ code: number; res: Res<T>; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += a.join(' ') + '\n'));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (stderr += a.join(' ') + '\n'));
  let code: number;
  try {
    code = await runCli([...args, '--json']);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  return { code, res: JSON.parse(stdout) as Res<T>, stderr };
}

describe('fault: hosts with a minimal (busybox) userland', () => {
  it('preflight names each missing program and capability, with a fix', () => {
    const r = cli.json<PreflightReport>(['preflight', 'run', hosts[0].address, hosts[1].address]);
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    const fs = r.value.findings;
    const on = (id: string) => fs.filter((f) => f.id === id);
    // busybox's ip and ping answer, without what the app needs
    for (const f of on('tool-ip')) expect(f).toMatchObject({ level: 'fail', what: expect.stringMatching(/^ip \(\/bin\/ip\) lacks JSON output \(`ip -j`\)/) });
    for (const f of on('tool-ping')) expect(f.what).toMatch(/lacks don’t-fragment probes \(`ping -M do`\)/);
    expect(on('tool-ip')).toHaveLength(2);
    expect(on('tool-ping')).toHaveLength(2);
    // and what busybox does not have at all
    for (const id of ['tool-ss', 'tool-lsblk', 'tool-socat', 'tool-qemu-img', 'tool-wipefs', 'qemu', 'drbd-utils']) expect(on(id), id).toHaveLength(2);
    // an unknown distribution: the fix names the program and the feature
    expect(on('tool-ip')[0]!.fix).toMatch(/^Install ip \(JSON output \(`ip -j`\)\)/);
    for (const f of fs.filter((x) => x.level === 'fail')) expect(f.fix, f.id).not.toBe('');
    expect(r.value.verdict.tier).toBe('none');
  });

  it('link setup ends with one clear error: JSON, exit 1, no stack trace, nothing after it', () => {
    const run = spawnSync(process.execPath, [cliBin, 'link', 'setup', hosts[0].address, hosts[1].address, '--json'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(run.status, run.stderr).toBe(1);
    const res = JSON.parse(run.stdout) as Res<unknown>;
    expect(res.ok).toBe(false);
    expect(res.error).toMatchObject({ code: 'link-ip-no-json', step: 'link-survey' });
    expect(res.error!.message).toMatch(/has no JSON output/);
    expect(res.error!.fix).toMatch(/apt-get install -y iproute2.*dnf install -y iproute.*zypper --non-interactive install iproute2/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/\n\s+at /);
    expect(run.stderr).not.toMatch(/internal-stray|unhandled/i);
  });

  // each program of the inventory the preflight checks, taken off host A in turn
  const checked = HOST_PROGRAMS.filter((p) => p.use !== 'optional' || p.reportedBy);
  it.each(checked.map((p) => [p.name, p] as const))('a host without %s: named, with a fix', async (name, p) => {
    fixture.hide(name);
    try {
      const { code, res, stderr } = await inProcess<PreflightReport>(['preflight', 'run', hosts[0].address]);
      expect(stderr).not.toMatch(/\n\s+at /);
      if (name === 'sh' || name === 'env') {
        // nothing runs at all: a clear error naming it
        expect(code).toBe(1);
        expect(res.error).toMatchObject({ code: 'preflight-failed' });
        expect(`${res.error!.message} ${res.error!.fix}`).toContain(name === 'sh' ? '/bin/sh' : '/usr/bin/env');
        return;
      }
      expect(res.ok, JSON.stringify(res.error)).toBe(true);
      const id = p.reportedBy ?? `tool-${name}`;
      const f = res.value.findings.filter((x) => x.id === id);
      expect(f, `${id} in ${res.value.findings.map((x) => x.id).join(', ')}`).toHaveLength(1);
      expect(['fail', 'warn']).toContain(f[0]!.level);
      expect(f[0]!.fix.length).toBeGreaterThan(10);
      if (!p.reportedBy) expect(`${f[0]!.what} ${f[0]!.fix}`).toContain(name);
    } finally {
      fixture.restore();
    }
  });

  it('busybox sh as the login shell, with iproute2 and coreutils’ env installed: the app reaches them, never the applets', async () => {
    // /usr/sbin comes before /bin on the gather's PATH, as on a real host; the shell still prefers its applets
    fixture.installReal(['/usr/sbin/ip', '/usr/bin/env']);
    const { res } = await inProcess<PreflightReport>(['preflight', 'run', hosts[0].address]);
    expect(res.ok, JSON.stringify(res.error)).toBe(true);
    expect(res.value.findings.filter((f) => f.id === 'tool-ip')).toEqual([]);
    // and link setup gets past the survey…
    const run = spawnSync(process.execPath, [cliBin, 'link', 'setup', hosts[0].address, hosts[1].address, '--json'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 180_000,
    });
    const r = JSON.parse(run.stdout) as Res<unknown>;
    expect(r.error?.code, JSON.stringify(r.error)).not.toBe('link-ip-no-json');
    // …to the MTU step, where busybox's ping cannot prove an MTU: a ping that can is the fix, never another --mtu
    expect(r.error).toMatchObject({ code: 'link-ping-no-df', step: 'link-mtu' });
    expect(r.error!.fix).toMatch(/apt-get install -y iputils-ping/);
    expect(r.error!.fix).not.toMatch(/--mtu/);
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/\n\s+at /);
  });
});
