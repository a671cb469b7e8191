import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveryResult, ErrorDTO, HostDTO, LabStatus } from '../../src-main/contract/index.js';
import { cli } from '../helpers/processes.js';
import { labEnv } from '../helpers/lab-env.js';

const { env, home } = labEnv('lh', '198.18.93');
type Up = Extract<LabStatus, { state: 'up' }>;
let lab: Up;

function run<T>(args: string[]): { ok: true; value: T } | { ok: false; error: ErrorDTO } {
  const r = cli([...args, '--json'], env);
  try {
    return JSON.parse(r.stdout) as never;
  } catch {
    throw new Error(`not JSON: ${r.stdout} ${r.stderr}`);
  }
}
const hostsList = () => (run<HostDTO[]>(['hosts', 'list']) as { value: HostDTO[] }).value;

beforeAll(() => {
  cli(['lab', 'down'], env);
  const r = run<LabStatus>(['lab', 'up']);
  if (!r.ok || r.value.state !== 'up') throw new Error(JSON.stringify(r));
  lab = r.value;
});
afterAll(() => {
  cli(['lab', 'down'], env);
  home.remove();
});

describe('hosts: discovery, pinning, bad input (on the virtual lab)', () => {
  it('discovery finds exactly the two lab hosts on the lab subnet (not the client, not the desktop)', () => {
    const r = run<DiscoveryResult>(['hosts', 'discover', '--cidr', '198.18.93.0/24']);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.addressesProbed).toBe(254);
    expect(r.value.candidates.map((c) => `${c.address}:${c.port}`)).toEqual(['198.18.93.11:22', '198.18.93.12:22']);
    expect(r.value.candidates.every((c) => c.banner.startsWith('SSH-2.0-'))).toBe(true);
  });

  it('a plain address is scanned as a /32; an address with no SSH says why none was found', () => {
    const one = run<DiscoveryResult>(['hosts', 'discover', '--cidr', '198.18.93.12']);
    expect(one.ok && one.value.scanned).toEqual(['198.18.93.12/32']);
    expect(one.ok && one.value.candidates.map((c) => `${c.address}:${c.port}`)).toEqual(['198.18.93.12:22']);
    const none = run<DiscoveryResult>(['hosts', 'discover', '--cidr', '198.18.93.12', '--ports', '2222']);
    expect(none.ok && none.value.candidates).toEqual([]);
    expect(none.ok && none.value.notes.join(' ')).toContain('refused the connection on port 2222');
  });

  it('first contact asks to confirm the fingerprint; confirming pins it; adding again is a no-op', () => {
    const a = lab.hosts[0]!;
    const first = run<HostDTO>(['hosts', 'add', a.address, '--key-file', lab.keyFile]);
    expect(first.ok).toBe(false);
    if (first.ok) return;
    expect(first.error.code).toBe('host-key-unconfirmed');
    expect(first.error.message).toContain(a.fingerprint);
    expect(first.error.fix).toBe(`lockstep hosts add ${a.address}:22 --accept-fingerprint ${a.fingerprint}`);
    expect(first.error.details).toEqual({ fingerprint: a.fingerprint, keyType: 'ssh-ed25519' });
    expect(hostsList()).toEqual([]);
    const added = run<HostDTO>(['hosts', 'add', a.address, '--key-file', lab.keyFile, '--accept-fingerprint', a.fingerprint]);
    expect(added).toMatchObject({ ok: true, value: { name: 'hostA', fingerprint: a.fingerprint, hostId: `${a.address}:22`, sudo: false } });
    expect(run<HostDTO>(['hosts', 'add', a.address, '--key-file', lab.keyFile])).toMatchObject({ ok: true, value: { name: 'hostA' } });
    expect(hostsList()).toHaveLength(1);
  });

  it('a confirmed fingerprint that does not match is refused', () => {
    const b = lab.hosts[1]!;
    const r = run<HostDTO>(['hosts', 'add', b.address, '--key-file', lab.keyFile, '--accept-fingerprint', lab.hosts[0]!.fingerprint]);
    expect(r).toMatchObject({ ok: false, error: { code: 'host-key-mismatch' } });
    expect(hostsList()).toHaveLength(1);
  });

  it('bad input gets a clear error with a fix and changes nothing', () => {
    const before = hostsList();
    const cases: [string[], string][] = [
      [['hosts', 'add', 'a;rm -rf /'], 'bad-request'],
      [['hosts', 'add', '$(reboot)'], 'bad-request'],
      [['hosts', 'add', '198.18.93.11', '--user', 'root;id'], 'bad-request'],
      [['hosts', 'add', '198.18.93.11', '--port', '2222', '--accept-fingerprint', lab.hosts[0]!.fingerprint], 'ssh-refused'],
      [['hosts', 'add', '198.18.93.11', '--key-file', '/nonexistent/key', '--accept-fingerprint', lab.hosts[0]!.fingerprint], 'ok-existing'],
      [['hosts', 'forget', 'no-such-host'], 'unknown-host'],
      [['hosts', 'discover', '--cidr', '10.0.0.0/8'], 'bad-request'],
    ];
    for (const [args, code] of cases) {
      const r = run<unknown>(args);
      if (code === 'ok-existing') {
        expect(r.ok, args.join(' ')).toBe(true); // already pinned: nothing to do
        continue;
      }
      expect(r.ok, args.join(' ')).toBe(false);
      if (!r.ok) {
        expect(r.error.code, args.join(' ')).toBe(code);
        expect(r.error.fix, args.join(' ')).toBeTruthy();
      }
    }
    expect(hostsList()).toEqual(before);
  });

  it('a user that is not root and has no sudo is refused with the sudoers fix', () => {
    if (spawnSync('id', ['lsnosudo']).status !== 0) expect(spawnSync('useradd', ['-m', '-s', '/bin/sh', '-p', '*', 'lsnosudo']).status).toBe(0);
    // an account with a "!" password is locked for sshd (UsePAM no): "*" is key-only
    spawnSync('usermod', ['-p', '*', 'lsnosudo']);
    const ssh = '/home/lsnosudo/.ssh';
    mkdirSync(ssh, { recursive: true });
    copyFileSync(`${lab.keyFile}.pub`, `${ssh}/authorized_keys`);
    expect(spawnSync('chown', ['-R', 'lsnosudo:', '/home/lsnosudo']).status).toBe(0);
    const b = lab.hosts[1]!;
    const r = run<HostDTO>(['hosts', 'add', b.address, '--user', 'lsnosudo', '--key-file', lab.keyFile, '--accept-fingerprint', b.fingerprint]);
    expect(r).toMatchObject({ ok: false, error: { code: 'needs-root', fix: expect.stringContaining('/etc/sudoers.d/lockstep') } });
    expect(hostsList()).toHaveLength(1);
  });

  it('a regenerated host key is refused, naming both fingerprints', () => {
    const a = lab.hosts[0]!;
    expect(run(['lab', 'down']).ok).toBe(true);
    const keyDir = join(home.path, 'lab', 'lh', 'hostA');
    for (const f of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub']) if (existsSync(join(keyDir, f))) rmSync(join(keyDir, f));
    const up = run<LabStatus>(['lab', 'up']);
    expect(up.ok).toBe(true);
    const newFp = (up as { value: Up }).value.hosts[0]!.fingerprint;
    expect(newFp).not.toBe(a.fingerprint);
    const r = run<HostDTO>(['hosts', 'add', a.address, '--key-file', lab.keyFile]);
    expect(r).toMatchObject({ ok: false, error: { code: 'host-key-changed' } });
    if (!r.ok) {
      expect(r.error.message).toContain(a.fingerprint);
      expect(r.error.message).toContain(newFp);
      expect(r.error.fix).toContain('lockstep hosts forget');
    }
    expect(hostsList()[0]!.fingerprint).toBe(a.fingerprint);
  });
});
