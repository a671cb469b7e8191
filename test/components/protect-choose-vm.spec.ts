import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import type { HostDTO, Vm, VmFinding, VmInspection, VmListing } from '../../src-main/contract/index.js';
import { setDoor } from '../../src-renderer/api.js';
import { hosts } from '../../src-renderer/stores/hosts.svelte.js';
import { pairState } from '../../src-renderer/stores/pair.svelte.js';
import ProtectPage from '../../src-renderer/views/setup/ProtectPage.svelte';

/** The Protect page's choice of VM with a stubbed API: what it sends to lockstep.protect, and why it refuses to. */
const host = (name: string, ip: string): HostDTO => ({
  id: name === 'hostA' ? 1 : 2,
  hostId: `${ip}:22`,
  address: ip,
  port: 22,
  name,
  user: 'root',
  fingerprint: 'SHA256:x',
  keyType: 'ssh-ed25519',
  sudo: false,
  addedAt: 0,
});
const A = host('hostA', '198.18.77.11');
const B = host('hostB', '198.18.77.12');

/** libvirt's test driver's domain "test", as vm.inspect reads it */
const testVm: Vm = {
  from: 'libvirt',
  name: 'test',
  uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f',
  hypervisor: 'test',
  memoryKiB: 8 * 1024 * 1024,
  vcpus: 2,
  cpuMode: null,
  machine: { raw: null, family: 'other', version: null, arch: 'i686' },
  boot: { firmware: 'bios', loader: null, nvram: null, secureBoot: false, kernel: null },
  disks: [
    {
      target: 'vda',
      device: 'disk',
      sourceType: 'file',
      path: '/guest/diskimage1',
      format: null,
      bus: 'virtio',
      virtualSizeBytes: null,
      actualSizeBytes: null,
      backingChain: [],
      internalSnapshots: 0,
      readonly: false,
      shareable: false,
    },
  ],
  nics: [{ mac: 'aa:bb:cc:dd:ee:ff', model: null, type: 'network', source: 'default', vhost: 'none' }],
  graphics: [],
  video: [],
  hostdevs: [],
  other: [],
  snapshots: [],
};
const warn: VmFinding = { id: 'nic-libvirt-network', severity: 'warn', text: 'The NIC is on libvirt network default.', fix: 'Use a bridge.' };
const spice: VmFinding = {
  id: 'graphics-spice',
  severity: 'refuse',
  text: 'SPICE/qxl crashes the secondary.',
  fix: 'virsh edit test: use VNC + virtio video',
  mirror: true,
};
const inspection = (findings: VmFinding[], vm: Vm = testVm): VmInspection => ({
  vm,
  hosts: [],
  findings,
  verdict: findings.some((f) => f.severity === 'refuse') ? { tier: 'mirror', why: 'refused' } : { tier: 'lockstep', why: 'COLO can carry it.' },
});

let calls: { name: string; input: Record<string, unknown> }[];
let listing: VmListing;
let inspected: VmInspection;

beforeEach(() => {
  calls = [];
  listing = { host: 'hostA', connect: 'test:///default', domains: [{ name: 'test', state: 'running' }] };
  inspected = inspection([warn]);
  setDoor({
    kind: 'web',
    invoke: async (name, input) => {
      calls.push({ name, input: input as Record<string, unknown> });
      if (name === 'vm.list') return { ok: true, value: listing };
      if (name === 'vm.inspect') return { ok: true, value: inspected };
      if (name === 'lockstep.protect') return { ok: false, error: { code: 'stub', message: 'stubbed protect' } };
      if (name === 'lockstep.status') return { ok: true, value: { state: 'unprotected' } };
      return { ok: false, error: { code: 'x', message: 'not here' } };
    },
    onEvent: () => () => {},
  });
  hosts.list = [A, B];
  pairState.pair = { state: 'unprotected' } as never;
  pairState.mirror = null;
});

const protectButton = () => screen.getByRole('button', { name: /^Protect (the guest|this VM)$/ }) as HTMLButtonElement;
const protectCall = () => calls.find((c) => c.name === 'lockstep.protect')?.input;
const type = async (label: RegExp, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });

describe('Protect page: which VM', () => {
  it('the demo guest: offered by default, protect gets only the two hosts', async () => {
    render(ProtectPage);
    await tick();
    expect((screen.getByRole('radio', { name: 'the demo guest' }) as HTMLInputElement).checked).toBe(true);
    expect(protectButton().disabled).toBe(false);
    await fireEvent.click(protectButton());
    await waitFor(() => expect(protectCall()).toEqual({ a: A.hostId, b: B.hostId }));
  });

  it('a VM on hostA: lists libvirt at the URI given, shows the details and findings; a running domain or a refusal blocks Protect with the reason', async () => {
    render(ProtectPage);
    await fireEvent.click(screen.getByRole('radio', { name: 'a VM on hostA' }));
    expect(protectButton().textContent).toBe('Protect this VM');
    expect(protectButton().disabled).toBe(true);
    expect(screen.getByTestId('protect-blocked').textContent).toBe('List the VMs on hostA and choose one.');
    const uri = screen.getByLabelText(/libvirt connection/) as HTMLInputElement;
    expect(uri.value).toBe('qemu:///system');
    await type(/libvirt connection/, 'qemu+ssh://evil/system');
    expect(screen.getByTestId('protect-blocked').textContent).toMatch(/is none of them/);
    expect((screen.getByRole('button', { name: 'List VMs on hostA' }) as HTMLButtonElement).disabled).toBe(true);
    await type(/libvirt connection/, 'test:///default');
    await fireEvent.click(screen.getByRole('button', { name: 'List VMs on hostA' }));
    await waitFor(() => screen.getByTestId('vm-domains'));
    expect(calls.find((c) => c.name === 'vm.list')?.input).toEqual({ host: A.hostId, connect: 'test:///default' });

    await fireEvent.click(screen.getByRole('radio', { name: /test running/ }));
    await waitFor(() => screen.getByTestId('vm-inspection'));
    expect(calls.find((c) => c.name === 'vm.inspect')?.input).toEqual({ host: A.hostId, peer: B.hostId, domain: 'test', connect: 'test:///default' });
    const details = screen.getByTestId('vm-details').textContent!;
    for (const s of ['8192 MiB', 'vCPUs 2', 'BIOS', '/guest/diskimage1', 'aa:bb:cc:dd:ee:ff', 'i686']) expect(details).toContain(s);
    expect(screen.getByTestId('finding-fix').textContent).toBe('Use a bridge.');
    // running: its disk is being written, and two copies of one server must not run
    expect(protectButton().disabled).toBe(true);
    expect(screen.getByTestId('protect-blocked').textContent).toMatch(/^test is running: shut it down first \(virsh shutdown test\)/);

    // shut off: offered from its disk image, with the domain's RAM, vCPUs and MAC, and the note saying so
    listing = { ...listing, domains: [{ name: 'test', state: 'shut off' }] };
    await fireEvent.click(screen.getByRole('button', { name: 'List VMs on hostA' }));
    await waitFor(() => screen.getByRole('radio', { name: /test shut off/ }));
    await fireEvent.click(screen.getByRole('radio', { name: /test shut off/ }));
    await waitFor(() => expect(protectButton().disabled).toBe(false));
    expect(screen.getByTestId('vm-plan').textContent).toMatch(/raw copy of \/guest\/diskimage1 \(8192 MiB, 2 vCPUs, MAC aa:bb:cc:dd:ee:ff\).*not built yet/);
    expect(screen.queryByTestId('protect-blocked')).toBeNull();
    await fireEvent.click(protectButton());
    await waitFor(() =>
      expect(protectCall()).toEqual({ a: A.hostId, b: B.hostId, disk: 'hostA:/guest/diskimage1', memory: 8192, cpus: 2, mac: 'aa:bb:cc:dd:ee:ff' }),
    );
  });

  it('a refusing finding blocks Protect with its text; its fix is shown', async () => {
    listing = { ...listing, domains: [{ name: 'test', state: 'shut off' }] };
    inspected = inspection([spice]);
    render(ProtectPage);
    await fireEvent.click(screen.getByRole('radio', { name: 'a VM on hostA' }));
    await type(/libvirt connection/, 'test:///default');
    await fireEvent.click(screen.getByRole('button', { name: 'List VMs on hostA' }));
    await waitFor(() => screen.getByTestId('vm-domains'));
    await fireEvent.click(screen.getByRole('radio', { name: /test shut off/ }));
    await waitFor(() => screen.getByTestId('vm-inspection'));
    expect(protectButton().disabled).toBe(true);
    expect(screen.getByTestId('protect-blocked').textContent).toBe('Lockstep cannot carry test as it is: SPICE/qxl crashes the secondary.');
    expect(screen.getByTestId('finding-fix').textContent).toBe('virsh edit test: use VNC + virtio video');
    expect(screen.getByTestId('vm-verdict').getAttribute('data-tier')).toBe('mirror');
    await fireEvent.click(protectButton());
    expect(protectCall()).toBeUndefined();
  });

  it('a disk image on hostA: the form is checked, the image read with vm.inspect, then protect gets --disk hostA:/PATH --memory --cpus --mac --port', async () => {
    const imageVm: Vm = { ...testVm, from: 'image', name: 'web1', memoryKiB: 512 * 1024, vcpus: 1, nics: [] };
    inspected = inspection([], imageVm);
    render(ProtectPage);
    await fireEvent.click(screen.getByRole('radio', { name: 'a disk image on hostA' }));
    expect(screen.getByTestId('protect-blocked').textContent).toMatch(/Give the disk image’s path on hostA/);
    await type(/Image path on hostA/, '/srv/web 1.qcow2');
    expect(screen.getByTestId('protect-blocked').textContent).toMatch(/no spaces, commas/);
    await type(/Image path on hostA/, '/srv/web1.qcow2');
    await type(/MAC/, '01:00:5e:00:00:01');
    expect(screen.getByTestId('protect-blocked').textContent).toMatch(/unicast MAC/);
    await type(/MAC/, '52:54:00:AB:CD:EF');
    await type(/Port/, '6379');
    expect(screen.getByTestId('protect-blocked').textContent).toMatch(/^Check the image first/);
    expect(protectButton().disabled).toBe(true);
    await fireEvent.click(screen.getByRole('button', { name: 'Check the image' }));
    await waitFor(() => screen.getByTestId('vm-inspection'));
    expect(calls.find((c) => c.name === 'vm.inspect')?.input).toEqual({
      host: A.hostId,
      peer: B.hostId,
      disk: '/srv/web1.qcow2',
      memory: 512,
      cpus: 1,
      mac: '52:54:00:ab:cd:ef',
    });
    expect(protectButton().disabled).toBe(false);
    // a change after the check asks for a new check
    await type(/vCPUs/, '2');
    expect(protectButton().disabled).toBe(true);
    await type(/vCPUs/, '1');
    expect(protectButton().disabled).toBe(false);
    await fireEvent.click(protectButton());
    await waitFor(() =>
      expect(protectCall()).toEqual({ a: A.hostId, b: B.hostId, disk: 'hostA:/srv/web1.qcow2', memory: 512, cpus: 1, mac: '52:54:00:ab:cd:ef', port: 6379 }),
    );
  });
});
