import { describe, expect, it } from 'vitest';
import { decideAccel, parseCpuFlags } from '../../src-main/hosts/accel.js';
import { checkPrerequisites } from '../../src-main/virtual-lab/prerequisites.js';
import { decideKernelKind, kernelHostFiles, labDataSize } from '../../src-main/virtual-lab/kernel-kind.js';
import { cidrTextsOverlap as cidrsOverlap, hostsOf, scanCidrFor } from '../../src-main/net/ipv4.js';
import { sshdConfig } from '../../src-main/virtual-lab/sshd-config.js';
import { nsHostCommands, ownedNames, planLayout, wireCommands } from '../../src-main/virtual-lab/topology.js';

const bytes = (n: number) => new Uint8Array(n).fill(0xab);

describe('lab topology', () => {
  const l = planLayout('lt', { A: 2, B: 1 }, bytes, '198.18.91');

  it('gives each host a public NIC, a crossover and a decoy, with the cable in different slots', () => {
    expect(l.hosts.map((h) => h.nics.map((n) => `${n.name}:${n.role}`))).toEqual([
      ['eth0:public', 'eth1:decoy', 'eth2:crossover'],
      ['eth0:public', 'eth1:crossover', 'eth2:decoy'],
    ]);
    expect(l.hosts.map((h) => h.address)).toEqual(['198.18.91.11', '198.18.91.12']);
    expect(l.hosts[0]!.nics[0]!.mac).toBe('02:ab:ab:ab:ab:ab');
  });

  it('keeps every interface name within the kernel limit of 15 characters', () => {
    const names = [l.pubBridge, l.xoBridge, l.desktopVeth + 'w', ...l.hosts.flatMap((h) => h.nics.map((n) => n.wirePeer))];
    for (const n of names) expect(n.length).toBeLessThanOrEqual(15);
  });

  it('builds the crossover from the two crossover NICs only, the decoy on nothing', () => {
    const cmds = nsHostCommands(l, l.hosts[0]!).map((c) => c.join(' '));
    expect(cmds).toContain('ip -n lt-wire link set lta2 master ltxo up');
    expect(cmds).toContain('ip -n lt-wire link set lta1 up');
    expect(cmds).toContain('ip -n lt-wire link set lta0 master ltpub up');
    expect(cmds).toContain('ip -n lt-hostA addr add 198.18.91.11/24 dev br0');
  });

  it('commands are argv arrays with no shell metacharacters', () => {
    for (const c of [...wireCommands(l), ...nsHostCommands(l, l.hosts[1]!)]) for (const a of c) expect(a).toMatch(/^[A-Za-z0-9._:/-]+$/);
  });

  it('refuses a bad prefix or network', () => {
    expect(() => planLayout('A;rm', { A: 1, B: 1 }, bytes)).toThrow(/prefix/);
    expect(() => planLayout('lt', { A: 1, B: 1 }, bytes, '10.0.0.0/8')).toThrow(/network/);
    expect(ownedNames('lt').netns).toEqual(['lt-wire', 'lt-client', 'lt-hostA', 'lt-hostB']);
  });

  it('writes an sshd config with keys only', () => {
    const c = sshdConfig({ address: '198.18.91.11', port: 22, hostKey: '/k', authorizedKeys: '/a', pidFile: '/p' });
    expect(c).toContain('PasswordAuthentication no');
    expect(c).toContain('PermitRootLogin prohibit-password');
    expect(c).toContain('ListenAddress 198.18.91.11');
  });

  it('CIDR overlap', () => {
    expect(cidrsOverlap('198.18.77.0/24', '198.18.77.128/25')).toBe(true);
    expect(cidrsOverlap('198.18.0.0/15', '198.19.4.0/24')).toBe(true);
    expect(cidrsOverlap('198.18.77.0/24', '198.18.78.0/24')).toBe(false);
    expect(cidrsOverlap('10.99.0.0/30', '10.99.0.4/30')).toBe(false);
    expect(cidrsOverlap('198.18.77.5', '198.18.77.0/24')).toBe(true);
  });

  it('discovery ranges: host addresses of a CIDR, subnets capped at /24', () => {
    expect(hostsOf('198.18.77.0/24')).toHaveLength(254);
    expect(hostsOf('198.18.77.0/24')[0]).toBe('198.18.77.1');
    expect(hostsOf('10.0.0.8/31')).toEqual(['10.0.0.8', '10.0.0.9']);
    expect(() => hostsOf('10.0.0.0/8')).toThrow(/wider than \/16/);
    expect(() => hostsOf('10.0.0.300/24')).toThrow(/not an IPv4 CIDR/);
    expect(scanCidrFor('192.168.4.77', 16)).toBe('192.168.4.0/24');
    expect(scanCidrFor('10.1.2.3', 28)).toBe('10.1.2.0/28');
  });
});

describe('lab prerequisites', () => {
  it('refuses without root before anything else, naming the fix', async () => {
    await expect(checkPrerequisites('namespaces', { uid: 1000, has: async () => true })).rejects.toMatchObject({
      code: 'lab-needs-root',
      fix: expect.stringContaining('sudo'),
    });
  });
  it('names the exact apt-get command for missing programs', async () => {
    const has = async (p: string) => !['sshd', 'linux.uml'].includes(p);
    await expect(checkPrerequisites('namespaces', { uid: 0, has })).rejects.toMatchObject({ fix: 'apt-get install -y openssh-server' });
    await expect(checkPrerequisites('kernel', { uid: 0, has, kernelKind: 'uml' })).rejects.toMatchObject({
      fix: 'apt-get install -y openssh-server user-mode-linux',
    });
    await expect(checkPrerequisites('namespaces', { uid: 0, has: async () => true })).resolves.toBeUndefined();
  });
  it('QEMU kernel hosts never ask for user-mode Linux', async () => {
    const has = async (p: string) => !['linux.uml', 'uml_mconsole', 'socat'].includes(p);
    await expect(checkPrerequisites('kernel', { uid: 0, has, kernelKind: 'vm' })).rejects.toMatchObject({ fix: 'apt-get install -y socat' });
    await expect(checkPrerequisites('kernel', { uid: 0, has: async (p) => p !== 'linux.uml', kernelKind: 'vm' })).resolves.toBeUndefined();
  });
});

describe('kernel host kind', () => {
  const facts = (forced: string | undefined, umlInstalled: boolean, probe: string) => ({ forced, umlInstalled, umlProbe: async () => probe });
  it('UML where its boot test passes, a QEMU VM where it does not (with the reason)', async () => {
    expect(await decideKernelKind(facts(undefined, true, 'ok'))).toMatchObject({ kind: 'uml' });
    const amx = await decideKernelKind(facts(undefined, true, 'user-mode Linux does not boot here (userspace - ptrace set fp regs failed, errno = 14)'));
    expect(amx.kind).toBe('vm');
    expect(amx.why).toContain('ptrace set fp regs failed');
    expect(await decideKernelKind(facts('auto', false, 'ok'))).toMatchObject({ kind: 'vm', why: expect.stringContaining('not installed') });
  });
  it('LOCKSTEP_LAB_KERNEL forces a kind, and a forced UML that cannot run is an error with a fix that works', async () => {
    let probed = false;
    expect(await decideKernelKind({ forced: 'vm', umlInstalled: true, umlProbe: async () => ((probed = true), 'ok') })).toMatchObject({ kind: 'vm' });
    expect(probed).toBe(false);
    await expect(decideKernelKind(facts('uml', true, 'no output'))).rejects.toMatchObject({
      code: 'lab-uml-cannot-run',
      fix: expect.stringContaining('unset'),
    });
    await expect(decideKernelKind(facts('uml', false, 'ok'))).rejects.toMatchObject({ fix: expect.stringContaining('user-mode-linux') });
    await expect(decideKernelKind(facts('kvm', true, 'ok'))).rejects.toMatchObject({ code: 'bad-lab-kernel' });
  });
  it('each kind names its data disk and scripts', () => {
    expect(kernelHostFiles('uml')).toMatchObject({ dataDisk: '/dev/ubda', scripts: 'lab/uml' });
    expect(kernelHostFiles('vm')).toMatchObject({ dataDisk: '/dev/vda', scripts: 'lab/vm' });
  });
});

describe('accelerator decision', () => {
  it('KVM only with /dev/kvm and hardware flags', () => {
    expect(decideAccel({ kvmDevice: true, cpuFlags: ['fpu', 'vmx'] }).accel).toBe('kvm');
    expect(decideAccel({ kvmDevice: true, cpuFlags: ['fpu'] })).toMatchObject({ accel: 'tcg', why: expect.stringContaining('paravirtual') });
    expect(decideAccel({ kvmDevice: false, cpuFlags: ['svm'] })).toMatchObject({ accel: 'tcg', why: expect.stringContaining('no /dev/kvm') });
    expect(parseCpuFlags('processor\t: 0\nflags\t\t: fpu vme svm\n')).toEqual(['fpu', 'vme', 'svm']);
  });
});

describe('kernel host data disk size', () => {
  it('defaults to 256M, takes M or G sizes from 64M to 64G, refuses anything else with the fix', () => {
    expect(labDataSize({})).toBe('256M');
    expect(labDataSize({ LOCKSTEP_LAB_DATA_SIZE: '1100M' })).toBe('1100M');
    expect(labDataSize({ LOCKSTEP_LAB_DATA_SIZE: '2G' })).toBe('2G');
    for (const bad of ['1T', '10M', '100G', '256', '2G; reboot', '-1G'])
      expect(() => labDataSize({ LOCKSTEP_LAB_DATA_SIZE: bad }), bad).toThrow(/LOCKSTEP_LAB_DATA_SIZE must be a size/);
  });
});
