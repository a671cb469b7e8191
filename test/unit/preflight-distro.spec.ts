/**
 * Fixes per distribution: the same gaps (no QEMU, no qemu-img, no socat, no drbd-utils, no DRBD
 * module, no iperf3) on Debian 12, Ubuntu 24.04, Proxmox VE 8, Rocky 9 and openSUSE Leap 15.6 get
 * that host's package manager and package names; a minimal (busybox) userland gets each missing
 * feature named; a lab host never gets a reboot or a kernel install.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { familyOf, installFix, installFixAnyDistro, parseOsRelease } from '../../src-main/hosts/distro.js';
import { HOST_PROGRAMS } from '../../src-main/hosts/inventory.js';
import type { HostFacts } from '../../src-main/hosts/facts/facts.js';
import { hostFindings, type Finding } from '../../src-main/preflight/findings.js';
import { pairFindings } from '../../src-main/preflight/pair-findings.js';
import { parseGatherOutput } from '../../src-main/hosts/facts/parse.js';

const fixture = (name: string) => parseGatherOutput(readFileSync(new URL(`../fixtures/preflight/${name}.txt`, import.meta.url), 'utf8'));
const fixOf = (fs: Finding[], id: string) => {
  const hits = fs.filter((f) => f.id === id);
  expect(hits, id).toHaveLength(1);
  return hits[0]!.fix;
};

const EXPECTED = {
  'distro-debian12': {
    family: 'debian',
    qemu: 'apt-get install -y qemu-system-x86',
    qemuImg: 'apt-get install -y qemu-utils',
    socat: 'apt-get install -y socat',
    drbdUtils: 'apt-get install -y drbd-utils',
    drbdModule: /^apt-get install -y linux-image-amd64 && reboot/,
    iperf3: 'apt-get install -y iperf3',
  },
  'distro-ubuntu2404': {
    family: 'ubuntu',
    qemu: 'apt-get install -y qemu-system-x86',
    qemuImg: 'apt-get install -y qemu-utils',
    socat: 'apt-get install -y socat',
    drbdUtils: 'apt-get install -y drbd-utils',
    drbdModule: /^apt-get install -y linux-modules-extra-6\.8\.0-45-generic && modprobe drbd$/,
    iperf3: 'apt-get install -y iperf3',
  },
  'distro-pve8': {
    family: 'proxmox',
    qemu: 'apt-get install -y pve-qemu-kvm',
    qemuImg: 'apt-get install -y pve-qemu-kvm',
    socat: 'apt-get install -y socat',
    drbdUtils: 'apt-get install -y drbd-utils',
    drbdModule: /^apt-get install -y proxmox-default-kernel && reboot/,
    iperf3: 'apt-get install -y iperf3',
  },
  'distro-rocky9': {
    family: 'el',
    qemu: /^dnf install -y qemu-kvm && ln -s \/usr\/libexec\/qemu-kvm /,
    qemuImg: 'dnf install -y qemu-img',
    socat: 'dnf install -y socat',
    drbdUtils: 'dnf install -y https://www.elrepo.org/elrepo-release-9.el9.elrepo.noarch.rpm && dnf install -y drbd9x-utils',
    drbdModule: /^dnf install -y https:\/\/www\.elrepo\.org\/elrepo-release-9\.el9\.elrepo\.noarch\.rpm && dnf install -y kmod-drbd9x && modprobe drbd$/,
    iperf3: 'dnf install -y iperf3',
  },
  'distro-leap156': {
    family: 'suse',
    qemu: 'zypper --non-interactive install qemu-x86',
    qemuImg: 'zypper --non-interactive install qemu-tools',
    socat: 'zypper --non-interactive install socat',
    drbdUtils: 'zypper --non-interactive install drbd-utils',
    drbdModule: /^zypper --non-interactive install drbd-kmp-default && modprobe drbd$/,
    iperf3: 'zypper --non-interactive install iperf',
  },
} as const;

describe('fixes for the host’s own distribution', () => {
  for (const [name, want] of Object.entries(EXPECTED)) {
    it(`${name}: ${want.family} package commands`, () => {
      const facts = fixture(name);
      expect(facts.os.family).toBe(want.family);
      const fs = hostFindings(facts, { guestRamBytes: 256 * 1024 ** 2 });
      const match = (got: string, w: string | RegExp) => (typeof w === 'string' ? expect(got).toBe(w) : expect(got).toMatch(w));
      match(fixOf(fs, 'qemu'), want.qemu);
      match(fixOf(fs, 'tool-qemu-img'), want.qemuImg);
      match(fixOf(fs, 'tool-socat'), want.socat);
      match(fixOf(fs, 'drbd-utils'), want.drbdUtils);
      match(fixOf(fs, 'drbd-module'), want.drbdModule);
      match(fixOf(fs, 'iperf3'), want.iperf3);
      // nothing of another family leaks in
      const others = { debian: /dnf|zypper/, ubuntu: /dnf|zypper/, proxmox: /dnf|zypper/, el: /apt-get|zypper/, suse: /apt-get|dnf/ }[want.family];
      for (const f of fs) expect(f.fix, f.id).not.toMatch(others);
      // the probes all worked and the rest is installed: no other tool finding
      expect(fs.filter((f) => f.id.startsWith('tool-')).map((f) => f.id)).toEqual(['tool-socat', 'tool-qemu-img']);
    });
  }

  it('os-release: the families of the common distributions', () => {
    const fam = (text: string, pve = false) => parseOsRelease(text, pve).family;
    expect(fam('ID=debian\nVERSION_ID="12"')).toBe('debian');
    expect(fam('ID=debian\nVERSION_ID="12"', true)).toBe('proxmox');
    expect(fam('ID=ubuntu\nID_LIKE=debian')).toBe('ubuntu');
    expect(fam('ID=linuxmint\nID_LIKE="ubuntu debian"')).toBe('ubuntu');
    expect(fam('ID="almalinux"\nID_LIKE="rhel centos fedora"')).toBe('el');
    expect(fam('ID="rhel"\nID_LIKE="fedora"')).toBe('el');
    expect(fam('ID=fedora')).toBe('fedora');
    expect(fam('ID="sles"\nID_LIKE="suse"')).toBe('suse');
    expect(fam('ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"')).toBe('suse');
    expect(fam('ID=alpine')).toBe('unknown');
    expect(fam('')).toBe('unknown');
    expect(familyOf({ id: 'rocky', idLike: [] })).toBe('el');
    // a hostile os-release stays data
    expect(parseOsRelease('ID="$(reboot)"\nID_LIKE="a;b debian"').id).toBeNull();
  });

  it('an unknown distribution: the program and the feature are named; every family has a command for every listed program but those it does not package', () => {
    const unknown = parseOsRelease('ID=alpine');
    expect(installFix(['ip'], unknown)).toBe("Install ip (JSON output (`ip -j`)) with alpine's package manager (the package is iproute2 on Debian/Ubuntu)");
    expect(installFixAnyDistro(['ping'])).toBe(
      'Debian/Ubuntu/Proxmox: apt-get install -y iputils-ping; RHEL/Rocky/Alma: dnf install -y iputils; Fedora: dnf install -y iputils; SUSE: zypper --non-interactive install iputils',
    );
    for (const p of HOST_PROGRAMS)
      for (const f of ['debian', 'ubuntu', 'proxmox', 'suse'] as const)
        expect(installFix([p.name], { ...unknown, family: f }), `${p.name} ${f}`).not.toMatch(/^Install /);
  });
});

describe('a minimal userland (busybox sh, ip and ping)', () => {
  /** What the gather finds on such a host: only busybox's applets, whose ip has no -j and whose ping has no -M. */
  const minimal = (): HostFacts => {
    const f = fixture('distro-debian12');
    f.os = parseOsRelease('');
    const have = ['sh', 'env', 'cat', 'ip', 'ping', 'busybox'];
    f.programs = Object.fromEntries(HOST_PROGRAMS.map((p) => [p.name, have.includes(p.name) ? `/bin/${p.name}` : null]));
    f.probes = { ipJson: false, pingDf: false, ss: false, timeout: false, setsid: false };
    return f;
  };

  it('names each missing feature, with the program, what it is for and a fix', () => {
    const fs = hostFindings(minimal());
    const ip = fs.find((f) => f.id === 'tool-ip')!;
    expect(ip.what).toBe('ip (/bin/ip) lacks JSON output (`ip -j`)');
    expect(ip.fix).toBe('Install ip (JSON output (`ip -j`)) with this host’s package manager (the package is iproute2 on Debian/Ubuntu)');
    expect(fs.find((f) => f.id === 'tool-ping')!.what).toMatch(/lacks don’t-fragment probes \(`ping -M do`\)/);
    for (const name of ['ss', 'timeout', 'setsid', 'lsblk', 'wipefs', 'qemu-img', 'socat', 'modprobe'])
      expect(
        fs.find((f) => f.id === `tool-${name}`),
        name,
      ).toMatchObject({ level: 'fail', fix: expect.stringContaining(name) });
    // every gap is a failing finding with a fix
    for (const f of fs.filter((x) => x.id.startsWith('tool-'))) expect(f.fix, f.id).not.toBe('');
  });
});

describe('lab hosts: no fix reboots this machine or installs a kernel', () => {
  const KERNEL_OR_REBOOT = /\breboot\b|linux-image|linux-modules|linux-generic|kernel-modules|proxmox-default-kernel|kmod-drbd|drbd-kmp|firmware|BIOS/i;
  const all = [
    'debian12-tcg-root',
    'debian12-netns-nobody',
    'kvm-drbd84',
    'kvm-qemu10-drbd9',
    'distro-debian12',
    'distro-ubuntu2404',
    'distro-pve8',
    'distro-rocky9',
    'distro-leap156',
  ];

  it('for every fixture, alone and as a pair, in either lab flavour', () => {
    for (const lab of ['namespaces', 'kernel'] as const)
      for (const name of all) {
        const facts = fixture(name);
        const bare = { ...facts, kvmDevice: false, cpuFlags: facts.cpuFlags.filter((x) => x !== 'vmx' && x !== 'svm' && x !== 'hypervisor') };
        for (const f of [facts, bare]) {
          for (const x of hostFindings(f, { lab })) expect(x.fix, `${name} ${x.id}`).not.toMatch(KERNEL_OR_REBOOT);
          const other = fixture('kvm-drbd84');
          const { findings } = pairFindings(f, { ...other, hostname: 'other' }, { guestRamBytes: 128 * 1024 ** 2, labs: [lab, lab], clockOffsetSeconds: 40 });
          for (const x of findings) expect(x.fix, `${name} pair ${x.id}`).not.toMatch(KERNEL_OR_REBOOT);
        }
      }
  });

  it('and they do on a real host that needs it (the check can fail)', () => {
    const bare = fixture('distro-debian12');
    expect(hostFindings(bare).find((f) => f.id === 'drbd-module')!.fix).toMatch(KERNEL_OR_REBOOT);
    expect(hostFindings(bare, { lab: 'namespaces' }).find((f) => f.id === 'drbd-module')!.fix).toContain('lockstep lab up --kernel');
  });
});
