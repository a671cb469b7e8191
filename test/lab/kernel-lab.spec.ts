import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabStatus, PreflightReport } from '../../src-main/contract/index.js';
import { SshSession } from '../../src-main/hosts/ssh-session.js';
import { leftovers } from '../../src-main/virtual-lab/observe.js';
import { cli } from '../helpers/processes.js';
import { labEnv } from '../helpers/lab-env.js';

const PREFIX = 'lk';
const lab0 = labEnv(PREFIX, '198.18.94');
// QEMU kernel hosts on every machine: where user-mode Linux boots, the other specs (mirror, its
// faults) run on UML hosts, so both kinds are exercised; where it cannot, everything runs on QEMU
const env = { ...lab0.env, LOCKSTEP_LAB_KERNEL: 'vm' };
const home = lab0.home;
type Up = Extract<LabStatus, { state: 'up' }>;
let lab: Up;

const json = <T>(args: string[]) => JSON.parse(cli([...args, '--json'], env).stdout) as { ok: boolean; value: T; error?: unknown };
const session = (h: Up['hosts'][number]) =>
  SshSession.connect({ address: h.address, port: h.port, user: 'root', keyFile: lab.keyFile, fingerprint: h.fingerprint });

beforeAll(() => {
  cli(['lab', 'down'], env);
  const r = json<LabStatus>(['lab', 'up', '--kernel']);
  if (!r.ok || r.value.state !== 'up') throw new Error(`lab up --kernel failed: ${JSON.stringify(r.error ?? r.value)}`);
  lab = r.value as Up;
});
afterAll(() => {
  cli(['lab', 'down'], env);
  home.remove();
});

describe('virtual lab: kernel hosts as QEMU virtual machines (real kernel, real DRBD)', () => {
  it('lab status says which kind of kernel host runs and why', () => {
    expect(lab.flavour).toBe('kernel');
    expect(lab.kernelHosts).toEqual({ kind: 'vm', why: expect.stringContaining('QEMU') });
    const st = json<LabStatus>(['lab', 'status']).value as Up;
    expect(st.kernelHosts?.kind).toBe('vm');
    for (const h of st.hosts) expect(h.dataDisk).toBe('/dev/vda');
  });

  it('each host runs its own kernel, loads DRBD 8.4 and has an empty data disk', async () => {
    const machineKernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
    for (const h of lab.hosts) {
      const s = await session(h);
      try {
        expect((await s.check(['hostname'])).trim()).toBe(h.name);
        expect((await s.check(['uname', '-r'])).trim()).not.toBe(machineKernel);
        await s.check(['modprobe', 'drbd']);
        expect((await s.check(['head', '-1', '/proc/drbd'])).trim()).toMatch(/^version: 8\.4\.\d+/);
        expect(Number((await s.check(['blockdev', '--getsize64', h.dataDisk!])).trim())).toBe(256 * 1024 * 1024);
        expect((await s.exec(['blkid', '-p', h.dataDisk!])).code).not.toBe(0); // no signature: empty
      } finally {
        s.dispose();
      }
    }
  });

  it('the crossover cable joins the hosts; the decoys reach nothing', async () => {
    const [a, b] = lab.hosts as [Up['hosts'][number], Up['hosts'][number]];
    const nic = (h: typeof a, r: string) => h.nics.find((n) => n.role === r)!.name;
    const sa = await session(a);
    const sb = await session(b);
    try {
      await sa.check(['ip', 'addr', 'replace', '10.99.0.1/30', 'dev', nic(a, 'crossover')]);
      await sb.check(['ip', 'addr', 'replace', '10.99.0.2/30', 'dev', nic(b, 'crossover')]);
      await sa.check(['ip', 'addr', 'replace', '10.98.0.1/30', 'dev', nic(a, 'decoy')]);
      await sb.check(['ip', 'addr', 'replace', '10.98.0.2/30', 'dev', nic(b, 'decoy')]);
      expect((await sa.exec(['ping', '-c', '2', '-W', '2', '10.99.0.2'])).code).toBe(0);
      expect((await sa.exec(['ping', '-c', '2', '-W', '1', '10.98.0.2'])).code).not.toBe(0);
    } finally {
      sa.dispose();
      sb.dispose();
    }
  });

  it('preflight over SSH reports DRBD 8.4 and a free data disk on both kernel hosts', () => {
    expect(json(['hosts', 'add-lab']).ok).toBe(true);
    const r = json<PreflightReport>(['preflight', 'run', 'hostA', 'hostB']);
    expect(r.ok).toBe(true);
    for (const h of r.value.hosts) expect(h.drbd).toMatch(/^8\.4\./);
    for (const h of ['hostA', 'hostB']) {
      expect(r.value.findings.find((x) => x.id === 'drbd-module' && x.host === h)!.level).toBe('ok');
      expect(r.value.findings.find((x) => x.id === 'disks' && x.host === h)?.what ?? '').toContain('vda');
    }
    expect(r.value.findings.find((x) => x.id === 'drbd-match')!.level).toBe('ok');
  });

  it('`lab down` stops the kernels and leaves no namespace, process or mount', () => {
    expect(json<LabStatus>(['lab', 'down']).value).toEqual({ state: 'down' });
    return leftovers(PREFIX).then((left) => {
      expect(left).toEqual([]);
      expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(home.path);
      const ps = spawnSync('pgrep', ['-f', `umid=${PREFIX}-host`], { encoding: 'utf8' });
      expect(ps.stdout.trim()).toBe('');
    });
  });
});
