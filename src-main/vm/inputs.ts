/**
 * Pure: the checks on what a user (or a domain's XML) names before anything runs on a host. Every
 * value reaches the host as one argv element (never a shell string), and is refused here when it
 * could be read as an option or would break QEMU's option syntax later (a comma in a path).
 */
import { LockstepError, VmDiskPath, VmDomainName } from '../contract/index.js';

/** The contract's rules (one definition): a path is absolute with no `..`, whitespace, comma (QEMU's option separator), quote or shell syntax. */
export const isDomainName = (v: string) => VmDomainName.safeParse(v).success;
export const isDiskPath = (v: string) => VmDiskPath.safeParse(v).success;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

const shown = (v: string) => JSON.stringify(v.slice(0, 80));

export function checkDomainName(name: string): string {
  if (!isDomainName(name))
    throw new LockstepError({
      code: 'vm-name-refused',
      message: `Refusing the domain name ${shown(name)}: lockstep takes libvirt names of letters, digits and . _ + : @ - (not starting with - or .), at most 128.`,
      fix: 'Name the VM as `lockstep vm list HOST` shows it; if its real name has other characters, rename it: `virsh domrename OLD NEW` (shut off).',
    });
  return name;
}

export function checkDiskPath(path: string, what = 'disk path'): string {
  if (!isDiskPath(path))
    throw new LockstepError({
      code: 'vm-path-refused',
      message: `Refusing the ${what} ${shown(path)}: it must be an absolute path of letters, digits and . _ + @ : = / - (no spaces, commas, quotes or ..).`,
      fix: 'Give the image’s absolute path, e.g. /var/lib/libvirt/images/NAME.qcow2; for a path with spaces or commas, make a symlink without them (`ln -s "OLD PATH" /var/lib/libvirt/images/NAME.qcow2`) and give that.',
    });
  return path;
}

export function checkMac(mac: string): string {
  const first = parseInt(mac.slice(0, 2), 16);
  if (!MAC.test(mac) || (first & 1) === 1)
    throw new LockstepError({
      code: 'vm-mac-refused',
      message: `Refusing the MAC ${shown(mac)}: give a unicast MAC like 52:54:00:12:34:56 (six hex pairs, first byte even).`,
      fix: 'Use the MAC the guest has now (`ip link` in the guest), so its network configuration keeps working; 52:54:00:xx:xx:xx is QEMU’s range.',
    });
  return mac.toLowerCase();
}

export interface InspectRequest {
  host: string;
  peer?: string;
  domain?: string;
  disk?: string;
  memory?: number;
  cpus?: number;
  mac?: string;
  boot?: 'bios' | 'uefi';
  bridge?: string;
  connect: string;
}

/** Which VM the request names: a libvirt domain, or a disk image with its RAM and vCPUs. */
export function inspectTarget(i: InspectRequest): { kind: 'domain'; name: string } | { kind: 'image'; path: string; memoryMiB: number; cpus: number } {
  const usage = `lockstep vm inspect ${i.host} --domain NAME   or   lockstep vm inspect ${i.host} --disk /PATH/TO/IMAGE --memory MIB --cpus N [--mac M] [--boot bios|uefi]`;
  if (i.domain !== undefined && i.disk !== undefined)
    throw new LockstepError({ code: 'bad-arguments', message: 'Name the VM one way: --domain (libvirt) or --disk (an image), not both.', fix: usage });
  if (i.domain !== undefined) {
    const image = (['memory', 'cpus', 'mac', 'boot', 'bridge'] as const).filter((k) => i[k] !== undefined);
    if (image.length)
      throw new LockstepError({
        code: 'bad-arguments',
        message: `--${image.join(', --')} ${image.length > 1 ? 'are' : 'is'} for a disk image; a libvirt domain says its own.`,
        fix: `lockstep vm inspect ${i.host} --domain ${i.domain}`,
      });
    return { kind: 'domain', name: checkDomainName(i.domain) };
  }
  if (i.disk !== undefined) {
    if (i.memory === undefined || i.cpus === undefined)
      throw new LockstepError({
        code: 'bad-arguments',
        message: `A disk image says nothing of the VM's RAM and vCPUs: give --memory and --cpus.`,
        fix: `lockstep vm inspect ${i.host} --disk ${i.disk} --memory 1024 --cpus 2`,
      });
    if (i.mac !== undefined) checkMac(i.mac);
    return { kind: 'image', path: checkDiskPath(i.disk), memoryMiB: i.memory, cpus: i.cpus };
  }
  throw new LockstepError({ code: 'bad-arguments', message: 'Name the VM to inspect: --domain NAME or --disk PATH.', fix: usage });
}
