import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { GATHER_SCRIPT } from '../../src-main/hosts/facts/gather-script.js';
import { parseGatherOutput } from '../../src-main/hosts/facts/parse.js';
import { splitSections } from '../../src-main/hosts/facts/parse-sections.js';

const SECTIONS = [
  'gather',
  'hostname',
  'kernel',
  'arch',
  'cpu-flags',
  'kvm',
  'qemu-version',
  'qemu-objects',
  'qemu-formats',
  'qemu-accel',
  'qemu-qmp',
  'qemu-img-formats',
  'drbd-proc',
  'drbd-modinfo',
  'drbdadm-version',
  'meminfo',
  'ip-addr',
  'ip-route',
  'ip-route6',
  'net-sysfs',
  'lsblk',
  'block-holders',
  'blkid',
  'init',
  'clock',
  'user',
  'sudo',
  'nft',
  'iptables',
  'iperf3',
  'os-release',
  'pve',
  'programs',
  'probe-ip-json',
  'probe-ping-df',
  'probe-ss',
  'probe-timeout',
  'probe-setsid',
  'end',
];

const run = (argv: string[], script = GATHER_SCRIPT) =>
  spawnSync(argv[0]!, argv.slice(1), { input: script, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 60_000 });

/** Every section once, in order, each closed by its exit status or `!missing`. */
function expectWellFormed(out: string) {
  const headers = out.split('\n').filter((l) => l.startsWith('=== '));
  const token = /@(\S+) ===$/.exec(headers[0]!)![1]!;
  expect(token).toMatch(/^[0-9a-f-]{8,}$/);
  expect(headers).toEqual(SECTIONS.map((s) => `=== ${s} @${token} ===`));
  const sections = splitSections(out);
  for (const name of SECTIONS) {
    const s = sections.get(name)!;
    expect(s.missing || s.rc !== null, name).toBe(true);
  }
}

describe('gather script', () => {
  it('is POSIX sh that only ever redirects to /dev/null (it changes nothing on the host)', () => {
    expect(spawnSync('sh', ['-n'], { input: GATHER_SCRIPT }).status).toBe(0);
    expect(GATHER_SCRIPT.replace(/\d?>\/dev\/null/g, '').replace(/\d?>&\d/g, '')).not.toMatch(/>/);
    // (the names the `programs` section looks for on PATH are names, not commands)
    expect(GATHER_SCRIPT.replace(/^\s*for f_p in .*$/m, '')).not.toMatch(/\b(rm|mv|dd|tee|mkfs|wipefs|modprobe|insmod|truncate)\s/);
  });

  it('runs on this machine: every section present, facts match the machine', () => {
    const r = run(['sh', '-s']);
    expect(r.status).toBe(0);
    expectWellFormed(r.stdout);
    const facts = parseGatherOutput(r.stdout);
    expect(facts.complete).toBe(true);
    expect(facts.hostname).toBe(hostname());
    expect(facts.kernel).toBe(release());
    expect(facts.uid).toBe(process.getuid!());
    expect(facts.memory!.totalBytes).toBeGreaterThan(0);
    expect(Math.abs(facts.clockEpochSeconds! - Date.now() / 1000)).toBeLessThan(60);
    if (existsSync('/usr/bin/qemu-system-x86_64')) expect(facts.qemu.version).not.toBeNull();
  });

  it('a missing tool shows as !missing and hides none of the others', () => {
    const script = GATHER_SCRIPT.replaceAll('qemu-system-x86_64', 'qemu-system-nonexistent').replaceAll('drbdadm --version', 'drbdadm-nonexistent --version');
    const r = run(['sh', '-s'], script);
    expectWellFormed(r.stdout);
    const s = splitSections(r.stdout);
    for (const n of ['qemu-version', 'qemu-objects', 'qemu-formats', 'qemu-qmp', 'drbdadm-version']) expect(s.get(n)!.missing, n).toBe(true);
    const facts = parseGatherOutput(r.stdout);
    expect(facts.qemu.version).toBeNull();
    expect(facts.drbd.utilsVersion).toBeNull();
    expect(facts.hostname).toBe(hostname());
    expect(facts.complete).toBe(true);
  });

  it.skipIf(!existsSync('/usr/bin/busybox'))('also runs under busybox sh', () => {
    const r = run(['/usr/bin/busybox', 'sh', '-s']);
    expect(r.status).toBe(0);
    const facts = parseGatherOutput(r.stdout);
    expect(facts.complete).toBe(true);
    expect(facts.hostname).toBe(hostname());
  });
});
