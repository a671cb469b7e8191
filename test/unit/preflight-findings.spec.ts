import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src-main/hosts/facts/facts.js';
import { candidateDisks, DEFAULT_OVERHEAD_BYTES, hostFindings, type Finding } from '../../src-main/preflight/findings.js';
import { pairFindings } from '../../src-main/preflight/pair-findings.js';
import { parseGatherOutput } from '../../src-main/hosts/facts/parse.js';

const fixture = (name: string) => parseGatherOutput(readFileSync(new URL(`../fixtures/preflight/${name}.txt`, import.meta.url), 'utf8'));
const GiB = 1024 ** 3;

const tcgHost = fixture('debian12-tcg-root');
const q10 = fixture('kvm-qemu10-drbd9');
const d84 = fixture('kvm-drbd84');

/** A copy of facts with some fields changed. */
function edit(f: HostFacts, change: (c: HostFacts) => void): HostFacts {
  const c = structuredClone(f);
  change(c);
  return c;
}
const renamed = (f: HostFacts, name: string) => edit(f, (c) => (c.hostname = name));
const one = (fs: Finding[], id: string, host?: string) => {
  const hits = fs.filter((f) => f.id === id && (host === undefined || f.host === host));
  expect(hits, `${id} ${host ?? ''}`).toHaveLength(1);
  return hits[0]!;
};

describe('host findings: accelerator and QEMU', () => {
  it('/dev/kvm with vmx/svm is KVM; without the flags TCG; without /dev/kvm TCG with the exact fix', () => {
    expect(one(hostFindings(d84), 'accel')).toMatchObject({ level: 'ok' });
    expect(one(hostFindings(tcgHost), 'accel')).toMatchObject({ level: 'warn', what: expect.stringContaining('paravirtual') });
    expect(one(hostFindings(tcgHost), 'accel').fix).toContain('nested virtualization');
    const noKvmIntel = edit(q10, (c) => (c.kvmDevice = false));
    expect(one(hostFindings(noKvmIntel), 'accel')).toMatchObject({ level: 'warn', what: 'No /dev/kvm: emulated (TCG), demo speed', fix: 'modprobe kvm_intel' });
    expect(one(hostFindings(edit(d84, (c) => (c.kvmDevice = false))), 'accel').fix).toBe('modprobe kvm_amd');
    const bare = edit(d84, (c) => {
      c.kvmDevice = false;
      c.cpuFlags = c.cpuFlags.filter((x) => x !== 'svm');
    });
    expect(one(hostFindings(bare), 'accel').fix).toMatch(/BIOS.*modprobe kvm_intel/);
  });

  it('QEMU missing fails everything with the install command', () => {
    const f = one(hostFindings(edit(d84, (c) => (c.qemu.version = null))), 'qemu');
    expect(f).toMatchObject({ level: 'fail', blocks: 'all', fix: 'apt-get install -y qemu-system-x86' });
  });

  it('QEMU 10.0.0–10.0.6 cannot start COLO; 10.0.7 and 7.2 on KVM are fine; 7.2 on TCG needs the workarounds', () => {
    const at = (major: number, minor: number, patch: number, base = q10) =>
      one(hostFindings(edit(base, (c) => (c.qemu.version = { major, minor, patch }))), 'qemu');
    for (const p of [0, 3, 6]) expect(at(10, 0, p)).toMatchObject({ level: 'fail', blocks: 'lockstep', what: `QEMU 10.0.${p} cannot start COLO` });
    expect(at(10, 0, 3).fix).toBe('apt-get update && apt-get install -y --only-upgrade qemu-system-x86');
    expect(at(10, 0, 7).level).toBe('ok');
    expect(at(10, 1, 0).level).toBe('ok');
    expect(at(7, 2, 22, d84).level).toBe('ok');
    expect(at(9, 2, 0).level).toBe('warn');
    expect(one(hostFindings(tcgHost), 'qemu')).toMatchObject({ level: 'warn', what: expect.stringContaining('native/qemu-tcg') });
  });

  it('a missing COLO piece fails lockstep, naming it', () => {
    const f = one(hostFindings(edit(d84, (c) => ((c.qemu.coloPieces.replication = false), (c.qemu.coloPieces.filterRewriter = false)))), 'colo-pieces');
    expect(f).toMatchObject({ level: 'fail', blocks: 'lockstep', what: 'QEMU lacks filter-rewriter, the replication block driver' });
  });
});

describe('host findings: DRBD, access, memory, links, disks, firewall, init', () => {
  it('DRBD module and utils', () => {
    expect(one(hostFindings(tcgHost), 'drbd-module')).toMatchObject({
      level: 'fail',
      blocks: 'mirror',
      fix: "apt-get install -y linux-image-amd64 && reboot   (Debian's kernels carry DRBD 8.4)",
    });
    // the same host as a lab host: the kernel lab, never a reboot of this machine
    expect(one(hostFindings(tcgHost, { lab: 'namespaces' }), 'drbd-module').fix).toBe(
      'DRBD needs the kernel lab (its hosts boot a kernel that carries DRBD): lockstep lab down && lockstep lab up --kernel',
    );
    expect(one(hostFindings(d84), 'drbd-module')).toMatchObject({ level: 'ok', what: 'DRBD 8.4.11 kernel module loaded' });
    expect(one(hostFindings(edit(d84, (c) => (c.drbd.utilsVersion = null))), 'drbd-utils')).toMatchObject({
      level: 'fail',
      fix: 'apt-get install -y drbd-utils',
    });
    expect(one(hostFindings(edit(q10, (c) => (c.drbd.utilsVersion = '8.9.10'))), 'drbd-utils')).toMatchObject({
      level: 'fail',
      fix: 'apt-get update && apt-get install -y --only-upgrade drbd-utils',
    });
  });

  it('root or passwordless sudo, else the sudoers line with the user quoted', () => {
    expect(one(hostFindings(d84), 'access').level).toBe('ok');
    expect(one(hostFindings(q10), 'access')).toMatchObject({ level: 'ok', what: 'Passwordless sudo for admin' });
    const nobody = fixture('debian12-netns-nobody');
    expect(one(hostFindings(nobody), 'access')).toMatchObject({
      level: 'fail',
      blocks: 'all',
      fix: "apt-get install -y sudo && echo 'nobody ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/lockstep && chmod 0440 /etc/sudoers.d/lockstep",
    });
    const evil = edit(nobody, (c) => (c.user = "x' && reboot && echo '"));
    expect(one(hostFindings(evil), 'access').fix).toContain(`echo 'x'\\'' && reboot && echo '\\'' ALL=(ALL) NOPASSWD: ALL' >`);
  });

  it('memory: the secondary needs about 2 × guest RAM + overhead', () => {
    const withAvail = (gib: number) => edit(d84, (c) => (c.memory = { totalBytes: 16 * GiB, availableBytes: gib * GiB }));
    const guestRamBytes = 2 * GiB;
    const o = DEFAULT_OVERHEAD_BYTES / GiB;
    expect(one(hostFindings(withAvail(4 + o), { guestRamBytes }), 'memory').level).toBe('ok');
    expect(one(hostFindings(withAvail(4 + o - 0.01), { guestRamBytes }), 'memory')).toMatchObject({ level: 'fail', blocks: 'lockstep' });
    expect(one(hostFindings(withAvail(2 + o - 0.01), { guestRamBytes }), 'memory')).toMatchObject({ level: 'fail', blocks: 'all' });
    expect(hostFindings(d84).some((f) => f.id === 'memory')).toBe(false);
  });

  it('crossover NIC: a free NIC with link besides the default route, hostile names quoted in fixes', () => {
    expect(one(hostFindings(q10), 'crossover-nic')).toMatchObject({
      level: 'ok',
      what: expect.stringContaining('enp2s0 (10000 Mb/s), a;rm -rf / (10000 Mb/s)'),
    });
    const f = one(hostFindings(d84), 'crossover-nic');
    expect(f).toMatchObject({ level: 'warn', fix: 'ip link set dev enp8s0 up' });
    expect(f.why).toContain('enp7s0 has link but already carries 10.99.0.1/30');
    const evil = edit(d84, (c) => (c.nics.find((n) => n.name === 'enp8s0')!.name = 'a;rm -rf /'));
    expect(one(hostFindings(evil), 'crossover-nic').fix).toBe("ip link set dev 'a;rm -rf /' up");
    expect(one(hostFindings(tcgHost), 'crossover-nic')).toMatchObject({ level: 'warn', fix: expect.stringContaining('Connect a cable') });
  });

  it('disks: unused, unformatted, writable, not the root disk; LVs and md arrays count', () => {
    expect(candidateDisks(q10).map((d) => d.path)).toEqual(['/dev/sda', '/dev/mapper/vg0-guests']);
    expect(candidateDisks(d84).map((d) => d.path)).toEqual(['/dev/vdb', '/dev/md0']);
    expect(candidateDisks(d84, 100 * GiB).map((d) => d.path)).toEqual(['/dev/vdb']);
    expect(one(hostFindings(q10), 'disks')).toMatchObject({
      level: 'ok',
      what: 'Disks free for DRBD: /dev/sda (447.1 GiB), /dev/mapper/vg0-guests (200.0 GiB)',
    });
    expect(one(hostFindings(tcgHost), 'disks').level).toBe('warn');
    // a free-looking partition on the root disk (e.g. a BIOS boot partition) is never offered
    const withSpare = edit(d84, (c) => (c.disks.find((d) => d.kname === 'sda2')!.sizeBytes = 10 * GiB));
    expect(candidateDisks(withSpare).map((d) => d.path)).not.toContain('/dev/sda2');
  });

  it('firewall: the exact accept command for the chain or iptables, with the ports named', () => {
    expect(one(hostFindings(q10), 'firewall')).toMatchObject({
      level: 'warn',
      fix: "nft insert rule inet filter input tcp dport '{ 7789, 9003, 9004, 9998, 9999 }' accept",
      why: expect.stringContaining('DRBD 7789'),
    });
    const ports = [
      { port: 7790, what: 'DRBD' },
      { port: 49152, what: 'migration' },
    ];
    expect(one(hostFindings(d84, { ports }), 'firewall')).toMatchObject({
      level: 'warn',
      fix: 'iptables -I INPUT -p tcp -m multiport --dports 7790,49152 -j ACCEPT',
      why: expect.stringContaining('DRBD 7790, migration 49152'),
    });
    expect(one(hostFindings(tcgHost), 'firewall').level).toBe('ok');
    const unknown = edit(tcgHost, (c) => (c.firewall = { kind: 'unknown', rulesText: '', nftInputChain: null }));
    expect(one(hostFindings(unknown), 'firewall').level).toBe('warn');
    const evil = edit(q10, (c) => (c.firewall.nftInputChain = { family: 'inet', table: 'f;reboot', chain: 'in put' }));
    expect(one(hostFindings(evil), 'firewall').fix).toMatch(/^nft insert rule inet 'f;reboot' 'in put' tcp dport/);
  });

  it('init system and hostname', () => {
    expect(one(hostFindings(d84), 'init').level).toBe('ok');
    expect(one(hostFindings(tcgHost), 'init')).toMatchObject({ level: 'warn', what: expect.stringContaining('without a unit') });
    expect(one(hostFindings(renamed(d84, 'bad name;x')), 'hostname')).toMatchObject({ level: 'fail', fix: 'hostnamectl set-hostname lockstep-a' });
  });
});

describe('pair findings and verdict', () => {
  const opts = { guestRamBytes: 1 * GiB };
  const debB = renamed(d84, 'deb-b');

  it('two Debian 12 KVM hosts with QEMU 7.2 and DRBD 8.4: lockstep', () => {
    const { findings, verdict } = pairFindings(d84, debB, { ...opts, clockOffsetSeconds: 0.2 });
    expect(findings.filter((f) => f.level === 'fail')).toEqual([]);
    expect(verdict.tier).toBe('lockstep');
    expect(verdict.why).toContain('QEMU 7.2.22');
    expect(one(findings, 'accel', 'deb-b').level).toBe('ok');
    expect(one(findings, 'clock').level).toBe('ok');
  });

  it('both on QEMU 10.0.3: mirror only, saying why', () => {
    const { findings, verdict } = pairFindings(q10, renamed(q10, 'kvm2'), opts);
    expect(one(findings, 'qemu-match').level).toBe('ok');
    expect(verdict.tier).toBe('mirror');
    expect(verdict.why).toContain('QEMU 10.0.3 cannot start COLO');
    expect(verdict.why).toContain('DRBD 9 on both hosts');
  });

  it('different QEMU versions fail lockstep; DRBD 8.4 against 9 fails the mirror: nothing is left', () => {
    const { findings, verdict } = pairFindings(q10, d84, opts);
    expect(one(findings, 'qemu-match')).toMatchObject({ level: 'fail', blocks: 'lockstep', what: 'QEMU differs: 10.0.3 on kvm1, 7.2.22 on deb-a' });
    expect(one(findings, 'drbd-match')).toMatchObject({ level: 'fail', blocks: 'mirror', what: 'DRBD differs: 9.2.12 on kvm1, 8.4.11 on deb-a' });
    expect(verdict.tier).toBe('none');
    expect(verdict.why).toContain('QEMU differs: 10.0.3 on kvm1, 7.2.22 on deb-a');
    expect(verdict.why).toContain('DRBD differs: 9.2.12 on kvm1, 8.4.11 on deb-a');
  });

  it('same QEMU except a patch release still fails lockstep', () => {
    const older = edit(debB, (c) => (c.qemu.version = { major: 7, minor: 2, patch: 21 }));
    const { verdict } = pairFindings(d84, older, opts);
    expect(verdict.tier).toBe('mirror');
  });

  it('the same hostname on both fails, with a rename for the second host', () => {
    const { findings, verdict } = pairFindings(d84, d84, opts);
    expect(one(findings, 'hostnames-differ')).toMatchObject({ level: 'fail', fix: 'hostnamectl set-hostname deb-a-b' });
    expect(one(findings, 'access', 'host A').level).toBe('ok');
    expect(verdict.tier).toBe('none');
  });

  it('clock offset: warn above 1 s, fail above 30 s', () => {
    const clock = (s: number) => one(pairFindings(d84, debB, { ...opts, clockOffsetSeconds: s }).findings, 'clock');
    expect(clock(-0.9).level).toBe('ok');
    expect(clock(3).level).toBe('warn');
    expect(clock(-31)).toMatchObject({ level: 'fail', fix: 'apt-get install -y chrony   (on both hosts)' });
    expect(pairFindings(d84, debB, opts).findings.some((f) => f.id === 'clock')).toBe(false);
  });

  it('KVM on one host, TCG on the other: a warning', () => {
    const tcgB = edit(debB, (c) => (c.kvmDevice = false));
    expect(one(pairFindings(d84, tcgB, opts).findings, 'accel-match')).toMatchObject({
      level: 'warn',
      what: 'KVM on deb-a, TCG on deb-b',
      fix: 'modprobe kvm_amd',
    });
  });

  it('this machine twice (no DRBD module, same name): none, with every reason', () => {
    const { verdict } = pairFindings(tcgHost, fixture('debian12-netns-nobody'), opts);
    expect(verdict.tier).toBe('none');
    expect(verdict.why).toContain('nobody is not root');
    expect(verdict.why).toContain('Both hosts are named "vm"');
  });

  it('matching QEMU with COLO but no DRBD: lockstep, with a full copy of the disk', () => {
    const noDrbd = (f: typeof d84) => edit(f, (c) => ((c.drbd.kernelVersion = null), (c.drbd.apiMajor = null), (c.drbd.moduleLoaded = false)));
    const { findings, verdict } = pairFindings(noDrbd(d84), noDrbd(debB), opts);
    expect(one(findings, 'drbd-module', 'deb-a')).toMatchObject({ level: 'fail', blocks: 'mirror' });
    expect(verdict.tier).toBe('lockstep');
    expect(verdict.why).toContain('a full copy');
  });

  it('every finding is well formed: a fix for each fail, blocks only on fails', () => {
    for (const [a, b] of [
      [d84, debB],
      [q10, d84],
      [tcgHost, fixture('debian12-netns-nobody')],
    ] as const) {
      for (const f of pairFindings(a, b, { ...opts, clockOffsetSeconds: 40 }).findings) {
        expect(f.what.length).toBeGreaterThan(0);
        if (f.level === 'fail') expect(f.fix, f.id).not.toBe('');
        expect(f.blocks === undefined, f.id).toBe(f.level !== 'fail');
      }
    }
  });
});
