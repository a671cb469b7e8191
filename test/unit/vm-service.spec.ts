import { describe, expect, it } from 'vitest';
import type { HostDTO } from '../../src-main/contract/index.js';
import type { EventBus } from '../../src-main/events/event-bus.js';
import type { HostsService } from '../../src-main/hosts/hosts-service.js';
import type { ExecResult, SshSession } from '../../src-main/hosts/ssh-session.js';
import { VmService } from '../../src-main/vm/vm-service.js';

const hostA = { id: 'a', name: 'hostA', hostId: '198.51.100.1:22', address: '198.51.100.1', port: 22, user: 'root' } as unknown as HostDTO;

/** A VmService over a fake host whose commands answer from `answer`; every argv run is recorded. */
function service(answer: (argv: string[]) => Partial<ExecResult>) {
  const ran: string[][] = [];
  const session = {
    exec: async (argv: (string | number)[]) => {
      ran.push(argv.map(String));
      return { code: 0, stdout: '', stderr: '', ...answer(argv.map(String)) };
    },
  } as unknown as SshSession;
  const hosts = { resolve: () => hostA, session: async () => session } as unknown as HostsService;
  const bus = { log: () => undefined } as unknown as EventBus;
  return { vm: new VmService({ hosts, bus }), ran };
}

describe('VmService: virsh failures in a person’s words', () => {
  it('virsh not installed (exit 127)', async () => {
    const { vm } = service(() => ({ code: 127, stderr: "/usr/bin/env: 'virsh': No such file or directory" }));
    await expect(vm.list({ host: 'hostA', connect: 'qemu:///system' })).rejects.toMatchObject({
      code: 'libvirt-missing',
      message: "libvirt's virsh is not installed on hostA.",
      fix: expect.stringContaining('libvirt-clients'),
    });
  });
  it('libvirt not running', async () => {
    const { vm } = service(() => ({
      code: 1,
      stderr: "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory",
    }));
    await expect(vm.list({ host: 'hostA', connect: 'qemu:///system' })).rejects.toMatchObject({
      code: 'libvirt-not-running',
      fix: expect.stringContaining('systemctl enable --now libvirtd'),
    });
  });
  it('no permission to use libvirt', async () => {
    const { vm } = service(() => ({ code: 1, stderr: 'error: authentication unavailable: no polkit agent available to authenticate action' }));
    await expect(vm.list({ host: 'hostA', connect: 'qemu:///system' })).rejects.toMatchObject({
      code: 'libvirt-denied',
      fix: expect.stringContaining('usermod -aG libvirt root'),
    });
  });
  it('lists domains with their states', async () => {
    const { vm, ran } = service(() => ({ stdout: ' Id   Name   State\n----------------------\n 3    web    running\n -    db     shut off\n' }));
    expect(await vm.list({ host: 'hostA', connect: 'qemu:///system' })).toEqual({
      host: 'hostA',
      connect: 'qemu:///system',
      domains: [
        { name: 'web', state: 'running' },
        { name: 'db', state: 'shut off' },
      ],
    });
    expect(ran).toEqual([['virsh', '-c', 'qemu:///system', 'list', '--all']]);
  });
});

describe('VmService: nothing runs for a hostile name or path', () => {
  it.each([
    [{ domain: '--help' }],
    [{ domain: 'a;reboot' }],
    [{ disk: '/a/../../etc/shadow', memory: 512, cpus: 1 }],
    [{ disk: '/x $(id)', memory: 512, cpus: 1 }],
    [{ disk: '/x.qcow2', memory: 512, cpus: 1, mac: 'ff:ff:ff:ff:ff:ff' }],
  ])('%j', async (o) => {
    const { vm, ran } = service(() => ({}));
    await expect(vm.inspect({ host: 'hostA', connect: 'qemu:///system', ...o })).rejects.toMatchObject({ fix: expect.any(String) });
    expect(ran).toEqual([]);
  });
  it('a disk path inside a domain that qemu-img could misread is shown, never run', async () => {
    const xml = `<domain type='kvm'><name>web</name><memory>1048584</memory><vcpu>1</vcpu><os><type machine='pc-i440fx-7.2'>hvm</type></os>
      <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/img/a,b.qcow2'/><target dev='vda'/></disk></devices></domain>`;
    const { vm, ran } = service((argv) => (argv[3] === 'dumpxml' ? { stdout: xml } : {}));
    const r = await vm.inspect({ host: 'hostA', connect: 'qemu:///system', domain: 'web' });
    expect(r.vm.disks[0]!.path).toBe('/img/a,b.qcow2');
    expect(ran.filter((a) => a[0] === 'qemu-img' || a[0] === 'stat')).toEqual([]);
    expect(ran[0]).toEqual(['virsh', '-c', 'qemu:///system', 'dumpxml', '--domain', 'web']);
  });
});
