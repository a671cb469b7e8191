/**
 * The demo guest as the Mirror tier runs it: one plain QEMU (no COLO, no lab workaround), its disk
 * on the DRBD device, started by Pacemaker's agent (ocf:lockstep:guest) on the promoted host. The
 * core hands this to the cluster (cluster/cluster-record.ts, GuestForCluster): the guest's files
 * and command line stay with the pair's code.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LockstepError } from '../contract/index.js';
import type { Side } from '../hosts/command.js';
import { decideAccel, parseCpuFlags } from '../hosts/accel.js';
import type { Environment } from '../hosts/environment.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { SshSession } from '../hosts/ssh-session.js';
import { guestTap } from './colo-steps.js';
import type { DiskLayer } from './disk-layer.js';
import { ensureFile, localSha256, remoteSha256 } from '../hosts/remote-files.js';
import { HOST_PATHS } from '../hosts/vm-layout.js';
import { GUEST } from './pair-record.js';

/** Where the agent keeps the guest's pid file and log; QEMU's serial and QMP sockets sit beside them. */
export const TIER_RUN = '/run/lockstep-guest';
export const TIER_GUEST = 'demo';

/** Pure: the demo guest's QEMU argv with its disk on `device` (the agent appends -pidfile). */
export function tierGuestArgv(o: { accel: 'kvm' | 'tcg'; device: string; cidr: string; name: string }): string[] {
  const lib = HOST_PATHS.lib;
  const run = `${TIER_RUN}/${o.name}`;
  return [
    'qemu-system-x86_64',
    ...['-name', `lockstep-${o.name}`, '-accel', o.accel === 'tcg' ? 'tcg,tb-size=128' : 'kvm', '-m', GUEST.memory, '-smp', '1'],
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'none'],
    ...['-kernel', `${lib}/vmlinuz`, '-initrd', `${lib}/initrd.img`, '-append', `console=ttyS0 quiet guest_ip=${o.cidr} guest_hostname=lockstep-demo`],
    ...['-drive', `if=none,id=d0,driver=raw,file.filename=${o.device}`, '-device', 'virtio-blk-pci,drive=d0'],
    ...['-netdev', `tap,id=hn0,ifname=${HOST_PATHS.tap},script=no,downscript=no,vhost=off`, '-device', `virtio-net-pci,netdev=hn0,mac=${GUEST.mac},romfile=`],
    ...['-chardev', `socket,id=ser0,path=${run}-serial.sock,server=on,wait=off,logfile=${run}-serial.log`, '-serial', 'chardev:ser0'],
    ...['-qmp', `unix:${run}-qmp.sock,server=on,wait=off`],
  ];
}

export interface TierGuestDeps {
  hosts: HostsService;
  lab: Environment;
  /** dist/guest: vmlinuz, initrd.img */
  guestDir: string;
  disks: Pick<DiskLayer, 'seeded' | 'markSeeded'>;
}

async function accelOf(s: SshSession): Promise<'kvm' | 'tcg'> {
  return decideAccel({
    kvmDevice: (await s.exec(['test', '-e', '/dev/kvm'])).code === 0,
    cpuFlags: parseCpuFlags((await s.exec(['cat', '/proc/cpuinfo'])).stdout),
  }).accel;
}

/** The Mirror tier's guest (the demo guest) on the hosts of the pair. */
export function tierGuest(d: TierGuestDeps) {
  const files = ['vmlinuz', 'initrd.img'] as const;
  return {
    diskBytes: GUEST.diskMiB * 2 ** 20,
    seeded: () => d.disks.seeded(),
    markSeeded: () => d.disks.markSeeded(),

    async define(hosts: Record<Side, string>, device: string) {
      if (!existsSync(join(d.guestDir, 'vmlinuz')))
        throw new LockstepError({ code: 'no-guest-image', message: 'The demo guest is not built.', fix: 'npm run build' });
      const lab = await d.lab.status();
      if (lab.state !== 'up')
        throw new LockstepError({
          code: 'no-guest-ip',
          message: "The demo guest takes its address from the lab's public network; these hosts are not lab hosts.",
          fix: 'lockstep cluster setup   (without --guest: DRBD under Pacemaker only)',
        });
      const cidr = `${lab.publicCidr.replace(/\.0\/24$/, '.50')}/24`;
      const accel = (await accelOf(await d.hosts.session(hosts.A))) === 'kvm' && (await accelOf(await d.hosts.session(hosts.B))) === 'kvm' ? 'kvm' : 'tcg';
      return { name: TIER_GUEST, address: cidr.split('/')[0]!, device, argv: tierGuestArgv({ accel, device, cidr, name: TIER_GUEST }) };
    },

    async stage(hostId: string, apply: boolean): Promise<boolean> {
      const s = await d.hosts.session(hostId);
      const sums = await Promise.all(files.map((f) => remoteSha256(s, `${HOST_PATHS.lib}/${f}`)));
      const tap = (await s.exec(['ip', 'link', 'show', 'dev', HOST_PATHS.tap])).stdout.includes(`master ${HOST_PATHS.bridge}`);
      const inPlace = tap && files.every((f, i) => sums[i] === localSha256(join(d.guestDir, f)));
      if (inPlace || !apply) return inPlace;
      await s.check(['mkdir', '-p', HOST_PATHS.lib]);
      for (const f of files) await ensureFile(s, join(d.guestDir, f), `${HOST_PATHS.lib}/${f}`, { again: 'lockstep cluster setup' });
      await guestTap(s);
      return false;
    },
  };
}
