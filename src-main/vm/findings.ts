/**
 * Pure: what COLO can carry of a VM, said before anything is touched. Each finding refuses lockstep
 * or warns, says why in a sentence, and names the exact thing to change; a refusal says whether the
 * mirror tier (DRBD + restart on the survivor) can still carry the VM as it is.
 * Facts from the field (shared/docs/field-notes/colo.md): passthrough and vhost cannot be
 * checkpointed; qxl/SPICE crashes the secondary; both hosts need the same QEMU and machine type;
 * the secondary keeps a RAM cache (≈ 2× guest RAM); under TCG a RAM size that is an exact multiple of
 * 256 KiB made the secondary's kernel panic after every checkpoint.
 */
import type { Vm, VmFinding, VmHostFacts, VmInspection } from '../contract/index.js';
import { diskFindings } from './disk-findings.js';

const MiB = 1024;
/** QEMU's own footprint beside the guest's RAM and the secondary's RAM cache. */
export const QEMU_OVERHEAD_KIB = 256 * MiB;

/** What a secondary of this VM needs on its host: guest RAM + COLO's RAM cache + QEMU. */
export const secondaryNeedKiB = (vm: Pick<Vm, 'memoryKiB'>) => 2 * vm.memoryKiB + QEMU_OVERHEAD_KIB;

const mib = (kib: number) => `${Math.round(kib / MiB)} MiB`;
const edit = (vm: Vm) => (vm.from === 'libvirt' ? `\`virsh edit ${vm.name}\`: ` : '');

function refuse(id: string, text: string, fix: string, mirror: boolean): VmFinding {
  return { id, severity: 'refuse', text, fix, mirror };
}
const warn = (id: string, text: string, fix: string): VmFinding => ({ id, severity: 'warn', text, fix });

function deviceFindings(vm: Vm): VmFinding[] {
  const out: VmFinding[] = [];
  const redirects = vm.hostdevs.filter((h) => h.kind === 'usb-redirect').length;
  if (redirects)
    out.push(
      refuse(
        'usb-redirect',
        `The VM redirects ${redirects} USB device slot(s) from a SPICE client: a device on a client machine cannot be checkpointed into the secondary. The mirror tier can still carry the VM.`,
        `${edit(vm)}delete the <redirdev bus='usb' type='spicevmc'> elements.`,
        true,
      ),
    );
  for (const h of vm.hostdevs.filter((x) => x.kind !== 'usb-redirect')) {
    const how =
      h.kind === 'nic'
        ? `change that <interface type='hostdev'> to <interface type='bridge'> with <source bridge='BRIDGE'/> and <model type='virtio'/>`
        : `delete its <hostdev> element (or \`virsh detach-device ${vm.name} FILE --config\` with that element in FILE)`;
    out.push(
      refuse(
        `passthrough-${h.kind}`,
        `${h.what} is passed through to the guest: COLO cannot copy a real device's state into the secondary, so lockstep cannot carry it. The mirror tier can restart the VM on the other host only if that host has the same device.`,
        `${edit(vm)}${how}.`,
        true,
      ),
    );
  }
  vm.nics.forEach((n, k) => {
    const which = `NIC ${k + 1} (${[n.mac, n.model].filter(Boolean).join(', ') || 'no MAC'})`;
    if (n.vhost === 'vhost-user')
      out.push(
        refuse(
          'nic-vhost-user',
          `${which} is vhost-user (its packets are handled in another process): COLO's filters must see every packet inside QEMU. The mirror tier can still carry the VM.`,
          `${edit(vm)}change <interface type='vhostuser'> to <interface type='bridge'> with <source bridge='BRIDGE'/>.`,
          true,
        ),
      );
    else if (n.vhost === 'vhost-net')
      out.push(
        refuse(
          'nic-vhost',
          `${which} asks for vhost-net (<driver name='vhost'/>): its packets would bypass QEMU, where COLO's filters compare them. The mirror tier can still carry the VM.`,
          `${edit(vm)}set <driver name='qemu'/> in that <interface>.`,
          true,
        ),
      );
    else if (n.vhost === 'vhost-net-default')
      out.push(
        warn(
          'nic-vhost-off',
          `${which} uses vhost-net by libvirt's default: lockstep runs it inside QEMU (vhost=off) with vnet_hdr_support on every COLO filter; network throughput is lower than with vhost.`,
          `Nothing to change; to run the same way without lockstep, set <driver name='qemu'/> in that <interface>.`,
        ),
      );
    if (n.type === 'network' && n.source)
      out.push(
        warn(
          'nic-libvirt-network',
          `${which} is on libvirt network "${n.source}": lockstep plugs the NIC into that network's bridge, which must exist on both hosts.`,
          `Check with \`virsh net-info ${n.source}\` on both hosts (same bridge name on each), or use a bridge both hosts have.`,
        ),
      );
    else if (!['bridge', 'network', 'hostdev', 'vhostuser'].includes(n.type))
      out.push(
        warn(
          'nic-type',
          `${which} is of type "${n.type}": lockstep plugs every NIC into a bridge on each host.`,
          `${edit(vm)}use <interface type='bridge'> with <source bridge='BRIDGE'/> (a bridge both hosts have).`,
        ),
      );
  });
  if (vm.nics.length > 1)
    out.push(
      refuse(
        'nics-many',
        `The VM has ${vm.nics.length} NICs; this version of lockstep compares the output of one. The mirror tier can carry it.`,
        `${edit(vm)}keep one <interface> (the one clients reach) and remove the others.`,
        true,
      ),
    );
  if (vm.graphics.some((g) => g.type === 'spice'))
    out.push(
      refuse(
        'spice',
        'The VM has a SPICE display: SPICE (and its agent channels) crashed the COLO secondary. The mirror tier can still carry the VM.',
        `${edit(vm)}replace <graphics type='spice' …> with <graphics type='vnc'/> and remove the <channel type='spicevmc'> elements.`,
        true,
      ),
    );
  if (vm.video.some((v) => v.model === 'qxl'))
    out.push(
      refuse(
        'qxl',
        'The VM has qxl video: qxl crashes the COLO secondary. The mirror tier can still carry the VM.',
        `${edit(vm)}set <model type='virtio'/> (or 'vga') in <video> instead of <model type='qxl' …>.`,
        true,
      ),
    );
  for (const o of vm.other) {
    if (/virtiofs/.test(o))
      out.push(
        refuse(
          'virtiofs',
          `The VM has a ${o}: virtio-fs runs in vhost-user, outside QEMU's checkpoints. The mirror tier can still carry the VM.`,
          `${edit(vm)}remove the <filesystem> element.`,
          true,
        ),
      );
    else
      out.push(
        warn(
          'device-other',
          `The VM has a ${o}: its state beside QEMU's is not covered by lockstep's tests.`,
          `${edit(vm)}remove it if the guest does not need it, then drill a failover before relying on it.`,
        ),
      );
  }
  return out;
}

function bootFindings(vm: Vm, hosts: VmHostFacts[]): VmFinding[] {
  const out: VmFinding[] = [];
  if (vm.boot.firmware === 'uefi') {
    if (!hosts.length)
      out.push(
        warn(
          'uefi-unchecked',
          'The VM boots with UEFI: both hosts need OVMF (not checked: no host facts).',
          'Install OVMF on both hosts: `apt-get install ovmf` (Debian/Ubuntu) or `dnf install edk2-ovmf` (RHEL/Fedora).',
        ),
      );
    for (const h of hosts.filter((x) => !x.ovmf))
      out.push(
        refuse(
          'uefi-ovmf',
          `The VM boots with UEFI and ${h.host} has no OVMF firmware.`,
          `On ${h.host}: \`apt-get install ovmf\` (Debian/Ubuntu) or \`dnf install edk2-ovmf\` (RHEL/Fedora).`,
          false,
        ),
      );
    // libvirt makes a VM's variable store at its first start when the domain names none
    const nvram = vm.boot.nvram ?? (vm.from === 'libvirt' ? `/var/lib/libvirt/qemu/nvram/${vm.name}_VARS.fd` : null);
    if (nvram)
      out.push(
        warn(
          'uefi-nvram',
          `Its UEFI variables (boot entries${vm.boot.secureBoot ? ', Secure Boot keys' : ''}) live in ${nvram}${vm.boot.nvram ? '' : " (libvirt's default place)"}: both sides must start from the same copy.`,
          `Nothing to change: protect copies ${nvram} to the other host with the disk, while the VM is shut down.`,
        ),
      );
  }
  if (vm.boot.kernel)
    out.push(
      warn(
        'kernel-boot',
        `The VM boots a kernel file from the host (${vm.boot.kernel}): the same file must be on both hosts.`,
        `${edit(vm)}boot from the disk (remove <kernel>, <initrd>, <cmdline>), or copy ${vm.boot.kernel} to the same path on the other host.`,
      ),
    );
  return out;
}

const machineList = (h: VmHostFacts) =>
  h.machines
    .filter((m) => /^pc-(i440fx|q35)-\d/.test(m))
    .slice(0, 4)
    .join(', ');

function qemuFindings(vm: Vm, hosts: VmHostFacts[]): VmFinding[] {
  const out: VmFinding[] = [];
  for (const h of hosts) {
    const v = /^(\d+)\.(\d+)\.(\d+)/.exec(h.qemuVersion ?? '');
    if (!h.qemuVersion)
      out.push(
        refuse('qemu-missing', `${h.host} has no QEMU (qemu-system-x86_64).`, `On ${h.host}: \`apt-get install qemu-system-x86\` (Debian/Ubuntu).`, false),
      );
    else if (v && v[1] === '10' && v[2] === '0' && Number(v[3]) <= 6)
      out.push(
        refuse(
          'qemu-broken-colo',
          `${h.host} runs QEMU ${h.qemuVersion}: QEMU 10.0.0–10.0.6 cannot start COLO (fixed in 10.0.7). The mirror tier works.`,
          `Install QEMU 10.0.7 or newer (or the 7.2 of Debian 12) on ${h.host}.`,
          true,
        ),
      );
    if (vm.machine.version && h.machines.length && !h.machines.includes(vm.machine.raw ?? ''))
      out.push(
        refuse(
          'machine-missing',
          `${h.host}'s QEMU has no machine type ${vm.machine.raw}: the secondary must be the same machine as the primary.`,
          `${edit(vm)}set <type machine='…'> to one ${h.host} has (${machineList(h) || 'see `qemu-system-x86_64 -machine help`'}), or install the same QEMU on both hosts.`,
          false,
        ),
      );
  }
  if (hosts.length === 2) {
    const [a, b] = hosts as [VmHostFacts, VmHostFacts];
    if (a.qemuVersion && b.qemuVersion && a.qemuVersion !== b.qemuVersion)
      out.push(
        refuse(
          'qemu-differs',
          `The hosts run different QEMU versions (${a.host} ${a.qemuVersion}, ${b.host} ${b.qemuVersion}): COLO needs the same on both.`,
          `Install the same QEMU version on both hosts (pin the package version).`,
          true,
        ),
      );
    if (!vm.machine.version && vm.machine.raw) {
      const resolve = (h: VmHostFacts) => h.machines.find((m) => m.startsWith(`${vm.machine.raw}=`))?.split('=')[1] ?? null;
      const [ra, rb] = [resolve(a), resolve(b)];
      if (ra && rb && ra !== rb)
        out.push(
          warn(
            'machine-alias',
            `Machine type "${vm.machine.raw}" means ${ra} on ${a.host} and ${rb} on ${b.host}: lockstep must pin one both have.`,
            `${edit(vm)}set <type machine='${[ra, rb].sort()[0]}'> (the older of the two), or install the same QEMU on both hosts.`,
          ),
        );
    }
  }
  if (vm.cpuMode === 'host-passthrough')
    out.push(
      warn(
        'cpu-passthrough',
        'The VM sees the host CPU as it is (host-passthrough): the two hosts must have the same CPU model and microcode, or the secondary diverges.',
        `${edit(vm)}set <cpu mode='host-model'/> (or a named CPU model both hosts have).`,
      ),
    );
  return out;
}

function memoryFindings(vm: Vm, hosts: VmHostFacts[]): VmFinding[] {
  const out: VmFinding[] = [];
  const need = secondaryNeedKiB(vm);
  // the secondary runs on the peer (the second host named); with one host named, say what the peer needs
  const secondary = hosts[1];
  if (hosts.length === 1)
    out.push(
      warn(
        'memory-peer-unchecked',
        `A secondary of this VM needs ≈ ${mib(need)} available on the other host (2 × ${mib(vm.memoryKiB)} guest RAM: the RAM and COLO's copy of it, + ${mib(QEMU_OVERHEAD_KIB)} for QEMU); the other host was not checked.`,
        `Name the other host too: lockstep vm inspect ${hosts[0]!.host} --peer HOST_B …`,
      ),
    );
  for (const h of secondary ? [secondary] : []) {
    if (h.memAvailableKiB === null) continue;
    const text = `A secondary of this VM needs ≈ ${mib(need)} on its host (2 × ${mib(vm.memoryKiB)} guest RAM: the RAM and COLO's copy of it, + ${mib(QEMU_OVERHEAD_KIB)} for QEMU; the active/hidden overlays are disk files that grow with the writes between checkpoints); ${h.host} has ${mib(h.memAvailableKiB)} available`;
    if (h.memAvailableKiB < need)
      out.push(
        refuse(
          'memory-secondary',
          `${text}. The mirror tier needs only the guest's RAM.`,
          `${vm.from === 'libvirt' ? `Give the VM less RAM (\`virsh setmaxmem ${vm.name} SIZE --config\`) or free` : 'Give --memory less, or free'} ${mib(need - h.memAvailableKiB)} on ${h.host}.`,
          h.memAvailableKiB >= vm.memoryKiB + QEMU_OVERHEAD_KIB,
        ),
      );
    else if (h.memAvailableKiB < need * 1.25)
      out.push(warn('memory-tight', `${text}: less than 25 % to spare.`, `Free memory on ${h.host} or give the VM less RAM before protecting it.`));
  }
  const tcg = hosts.length === 0 || hosts.some((h) => h.accel === 'tcg');
  if (vm.memoryKiB % 256 === 0 && tcg) {
    const more = vm.memoryKiB + 8;
    out.push(
      warn(
        'tcg-ram-multiple',
        `${hosts.length ? 'A host has no KVM (TCG)' : 'If a host has no KVM (TCG)'} and the VM's RAM (${vm.memoryKiB} KiB) is an exact multiple of 256 KiB: under QEMU 7.2 + TCG the secondary's kernel panicked after every checkpoint while COLO still said "colo". Lockstep gives such a VM 8 KiB more (${more} KiB).`,
        vm.from === 'libvirt'
          ? `Nothing to change: lockstep starts it with -m ${more}k; to match outside lockstep, \`virsh setmaxmem ${vm.name} ${more}KiB --config && virsh setmem ${vm.name} ${more}KiB --config\`.`
          : `Nothing to change: lockstep starts it with -m ${more}k.`,
      ),
    );
  }
  return out;
}

/** Every finding for this VM on these hosts (none, one or both of the pair), refusals first. */
export function vmFindings(vm: Vm, hosts: VmHostFacts[]): VmFinding[] {
  const all = [...deviceFindings(vm), ...diskFindings(vm), ...bootFindings(vm, hosts), ...qemuFindings(vm, hosts), ...memoryFindings(vm, hosts)];
  return [...all.filter((f) => f.severity === 'refuse'), ...all.filter((f) => f.severity === 'warn')];
}

/** Lockstep when nothing refuses; mirror when every refusal leaves the mirror tier; else none. */
export function vmVerdict(findings: VmFinding[]): VmInspection['verdict'] {
  const refusals = findings.filter((f) => f.severity === 'refuse');
  if (!refusals.length) return { tier: 'lockstep', why: 'COLO can carry this VM as it is.' };
  const ids = [...new Set(refusals.map((f) => f.id))].join(', ');
  if (refusals.every((f) => f.mirror))
    return { tier: 'mirror', why: `Lockstep cannot carry it (${ids}); the mirror tier (DRBD + restart on the survivor) can. Fix those to get lockstep.` };
  return { tier: 'none', why: `Neither tier can carry it as it is (${ids}): fix those first.` };
}
