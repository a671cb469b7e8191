import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGatherOutput } from '../../src-main/hosts/facts/parse.js';
import { nftInputChains } from '../../src-main/hosts/facts/parse-firewall.js';
import { splitSections } from '../../src-main/hosts/facts/parse-sections.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/preflight/${name}.txt`, import.meta.url), 'utf8');

describe('parse: real output of this machine (Debian 12, QEMU 7.2, drbd-utils, no DRBD module)', () => {
  const root = parseGatherOutput(fixture('debian12-tcg-root'));

  it('reads identity, kernel, clock and access', () => {
    expect(root).toMatchObject({
      complete: true,
      hostname: 'vm',
      kernel: '6.18.44-fc-v669',
      arch: 'x86_64',
      uid: 0,
      user: 'root',
      isRoot: true,
      sudoOk: false,
    });
    expect(root.clockEpochSeconds).toBeGreaterThan(1.7e9);
    expect(root).toMatchObject({ initSystem: 'other', pid1: 'process_api', hasIperf3: true });
  });

  it('sees /dev/kvm without vmx/svm (paravirtual KVM)', () => {
    expect(root.kvmDevice).toBe(true);
    expect(root.cpuFlags).toContain('hypervisor');
    expect(root.cpuFlags).not.toContain('vmx');
    expect(root.cpuFlags).not.toContain('svm');
  });

  it('finds QEMU 7.2.22 with every COLO piece', () => {
    expect(root.qemu.version).toEqual({ major: 7, minor: 2, patch: 22 });
    expect(root.qemu.versionText).toBe('7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)');
    expect(Object.values(root.qemu.coloPieces).every(Boolean)).toBe(true);
    expect(root.qemu.accelerators).toEqual(['tcg', 'kvm']);
  });

  it('finds drbd-utils 9.22 but no DRBD module', () => {
    expect(root.drbd).toEqual({ kernelVersion: null, moduleLoaded: false, utilsVersion: '9.22.0', apiMajor: null });
  });

  it('reads memory, NICs, the default route and the disks', () => {
    expect(root.memory!.totalBytes).toBe(24684084 * 1024);
    expect(root.memory!.availableBytes).toBeGreaterThan(0);
    expect(root.defaultRouteDev).toBe('eth0');
    expect(root.nics.find((n) => n.name === 'eth0')).toMatchObject({
      mac: '02:fc:00:00:00:01',
      carrier: true,
      mtu: 1400,
      addresses: ['192.0.2.2/24', 'fd00::2/64'],
      kind: 'physical',
      speedMbps: null,
      master: null,
    });
    expect(root.nics.find((n) => n.name === 'lo')!.kind).toBe('loopback');
    expect(root.nics.find((n) => n.name === 'ifb0')).toMatchObject({ kind: 'virtual', linkKind: 'ifb', carrier: false, adminUp: false });
    expect(root.disks.find((d) => d.path === '/dev/vda')).toMatchObject({ mounted: true, mountpoints: ['/run/netns', '/'], onRootDisk: true });
    expect(root.firewall.kind).toBe('none');
  });

  it('as nobody in an empty network namespace: no access, no routes, no KVM access', () => {
    const f = parseGatherOutput(fixture('debian12-netns-nobody'));
    expect(f).toMatchObject({ uid: 65534, user: 'nobody', isRoot: false, sudoOk: false, kvmDevice: true, kvmAccess: false, defaultRouteDev: null });
    expect(f.nics.map((n) => n.name)).toEqual(['lo']);
    expect(f.qemu.version).toEqual({ major: 7, minor: 2, patch: 22 });
  });
});

describe('parse: KVM host, QEMU 10.0.3, DRBD 9 (hand-written)', () => {
  const f = parseGatherOutput(fixture('kvm-qemu10-drbd9'));

  it('QEMU and DRBD', () => {
    expect(f.qemu.version).toEqual({ major: 10, minor: 0, patch: 3 });
    expect(f.qemu.coloPieces.xColo).toBe(true);
    expect(f.drbd).toEqual({ kernelVersion: '9.2.12', moduleLoaded: true, utilsVersion: '9.28.0', apiMajor: 9 });
    expect(f.cpuFlags).toContain('vmx');
    expect(f).toMatchObject({ hostname: 'kvm1', initSystem: 'systemd', pid1: 'systemd', isRoot: false, sudoOk: true, user: 'admin', hasIperf3: false });
  });

  it('NICs: bridge port, bridge, free 10G NIC, a hostile name as plain data', () => {
    const by = (n: string) => f.nics.find((x) => x.name === n);
    expect(f.defaultRouteDev).toBe('br0');
    expect(by('eno1')).toMatchObject({ master: 'br0', kind: 'physical', speedMbps: 1000, addresses: [] });
    expect(by('br0')).toMatchObject({ kind: 'bridge', addresses: ['192.168.10.21/24'] });
    expect(by('enp2s0')).toMatchObject({ kind: 'physical', carrier: true, speedMbps: 10000, mtu: 9000, addresses: [] });
    expect(by('enp2s0f1')).toMatchObject({ adminUp: true, carrier: false });
    expect(by('a;rm -rf /')).toMatchObject({ kind: 'veth', carrier: true, speedMbps: 10000, mac: 'ee:13:37:00:00:01' });
  });

  it('disks: the LVM stack on the root disk, holders, signatures from blkid', () => {
    const by = (p: string) => f.disks.find((d) => d.path === p)!;
    expect(by('/dev/nvme0n1')).toMatchObject({ partitions: ['nvme0n1p1', 'nvme0n1p2'], pttype: 'gpt', onRootDisk: true, mounted: false });
    expect(by('/dev/nvme0n1p2')).toMatchObject({ holders: ['dm-0', 'dm-1', 'dm-2'], fstype: 'LVM2_member', parents: ['nvme0n1'] });
    expect(by('/dev/mapper/vg0-root')).toMatchObject({ kname: 'dm-0', type: 'lvm', mountpoints: ['/'] });
    expect(by('/dev/mapper/vg0-swap')).toMatchObject({ mounted: true, mountpoints: ['[SWAP]'] });
    expect(by('/dev/sda')).toMatchObject({ onRootDisk: false, fstype: null, holders: [], sizeBytes: 480103981056 });
    expect(by('/dev/sdb').fstype).toBe('ext4');
    expect(by('/dev/sr0')).toMatchObject({ type: 'rom', readOnly: true });
  });

  it('firewall: an nftables input chain, a comment that looks like a header stays inside it', () => {
    expect(f.firewall.kind).toBe('nftables');
    expect(f.firewall.nftInputChain).toEqual({ family: 'inet', table: 'filter', chain: 'input' });
    expect(f.firewall.rulesText).toContain('comment "=== ssh ==="');
  });
});

describe('parse: Debian 12 KVM host with DRBD 8.4 loaded (hand-written)', () => {
  const f = parseGatherOutput(fixture('kvm-drbd84'));

  it('reads DRBD 8.4 from /proc/drbd', () => {
    expect(f.drbd).toEqual({ kernelVersion: '8.4.11', moduleLoaded: true, utilsVersion: '9.22.0', apiMajor: 8 });
    expect(f.cpuFlags).toContain('svm');
  });

  it('sees iptables (iptables-nft tables are left to iptables)', () => {
    expect(f.firewall.kind).toBe('iptables');
    expect(f.firewall.rulesText).toContain('-P INPUT DROP');
    expect(f.firewall.nftInputChain).toBeNull();
  });

  it('md member via sysfs holders, the array itself, a read-only disk', () => {
    const by = (p: string) => f.disks.find((d) => d.path === p)!;
    expect(by('/dev/vdd')).toMatchObject({ holders: ['md0'], fstype: 'linux_raid_member' });
    expect(by('/dev/md0')).toMatchObject({ type: 'raid1', holders: [], onRootDisk: false });
    expect(by('/dev/vdc').readOnly).toBe(true);
    expect(by('/dev/sda1')).toMatchObject({ onRootDisk: true, mountpoints: ['/'] });
  });
});

describe('parse: robustness', () => {
  it('empty or garbage input: everything unknown, nothing thrown', () => {
    for (const text of ['', 'garbage\n\n\x00', '=== ip-addr ===\n[{"ifname":\n!rc=0\n']) {
      const f = parseGatherOutput(text);
      expect(f).toMatchObject({ complete: false, hostname: null, memory: null, nics: [], disks: [], isRoot: false, sudoOk: false, clockEpochSeconds: null });
      expect(f.qemu.version).toBeNull();
      expect(f.qemu.coloPieces.xColo).toBe(false);
      expect(f.firewall.kind).toBe('none');
    }
  });

  it('output cut off in the middle: what came before is kept, complete is false', () => {
    const text = fixture('kvm-qemu10-drbd9');
    const f = parseGatherOutput(text.slice(0, text.indexOf('=== ip-addr')));
    expect(f).toMatchObject({ complete: false, hostname: 'kvm1', nics: [], disks: [] });
    expect(f.drbd.apiMajor).toBe(9);
  });

  it('CRLF line ends (a PTY) parse the same', () => {
    const text = fixture('kvm-drbd84');
    expect(parseGatherOutput(text.replace(/\n/g, '\r\n'))).toEqual(parseGatherOutput(text));
  });

  it('a line of output cannot open a section: headers carry the run token', () => {
    const text = fixture('kvm-drbd84').replace('\ndeb-a\n', '\n=== kernel ===\n=== kernel @c0ffee ===\n!rc=0\n=== sudo ===\nok\n');
    const s = splitSections(text);
    expect(s.get('hostname')!.lines).toEqual(['=== kernel ===', '=== kernel @c0ffee ===', '!rc=0', '=== sudo ===', 'ok']);
    const f = parseGatherOutput(text);
    expect(f.kernel).toBe('6.1.0-40-amd64');
    expect(f.hostname).toBe('=== kernel ===');
  });

  it('a failed command yields unknown, a tokenless older output still parses', () => {
    const f = parseGatherOutput('=== hostname ===\nhostA\n!rc=0\n=== meminfo ===\nMemTotal: 1 kB\n!rc=1\n=== kvm ===\n!missing\n=== end ===\nend\n!rc=0\n');
    expect(f).toMatchObject({ hostname: 'hostA', memory: null, kvmDevice: false, complete: true });
  });

  it('a QEMU without the x-colo capability (asked over QMP)', () => {
    const text = fixture('kvm-qemu10-drbd9').replace('{"state": false, "capability": "x-colo"}, ', '');
    expect(parseGatherOutput(text).qemu.coloPieces.xColo).toBe(false);
  });
});

describe('nft input chains', () => {
  it('counts rules and drop policies of input hooks only', () => {
    const rs = [
      'table inet filter {',
      '\tchain input {',
      '\t\ttype filter hook input priority filter; policy accept;',
      '\t}',
      '\tset blocked {',
      '\t\ttype ipv4_addr',
      '\t\telements = { 192.0.2.9 }',
      '\t}',
      '}',
      'table ip fw {',
      '\tchain in {',
      '\t\ttype filter hook input priority 0; policy drop;',
      '\t}',
      '\tchain out {',
      '\t\ttype filter hook output priority 0; policy drop;',
      '\t}',
      '}',
      '# Warning: table ip filter is managed by iptables-nft, do not touch!',
      'table ip filter {',
      '\tchain INPUT {',
      '\t\ttype filter hook input priority filter; policy accept;',
      '\t\tcounter packets 0 bytes 0 drop',
      '\t}',
      '}',
    ].join('\n');
    expect(nftInputChains(rs)).toEqual([
      { family: 'ip', table: 'fw', chain: 'in', rules: 0, policy: 'drop', iptablesManaged: false },
      { family: 'ip', table: 'filter', chain: 'INPUT', rules: 1, policy: 'accept', iptablesManaged: true },
    ]);
  });
});
