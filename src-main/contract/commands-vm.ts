/** The commands that read a user's own VM (issue 21): its inputs and its commands. */
import { z } from 'zod';
import { HostRef } from './command-inputs.js';

/** libvirt's name of a VM: never read as an option (no leading dash), never shell syntax. */
export const VmDomainName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+:@-]{0,127}$/, 'a libvirt domain name: letters, digits and . _ + : @ -, starting with a letter or digit');

/** A disk image on a host: absolute, no `..`, no spaces, commas, quotes or shell syntax. */
export const VmDiskPath = z
  .string()
  .regex(
    /^(?!.*\/\.\.(?:\/|$))\/[A-Za-z0-9._+@:=/-]{1,4095}$/,
    'an absolute path of letters, digits and . _ + @ : = / - (no spaces, commas, quotes or ..), like /var/lib/libvirt/images/NAME.qcow2',
  );

/** A disk image named with its host, `HOST:/PATH` (protect --disk): the host as `hosts list` names it, the path as VmDiskPath. */
export const VmHostDisk = z
  .string()
  .max(4200)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}(?::\d{1,5})?:(?!.*\/\.\.(?:\/|$))\/[A-Za-z0-9._+@:=/-]{1,4095}$/,
    'HOST:/PATH of a disk image on host A, like hostA:/var/lib/libvirt/images/web1.qcow2 (no spaces, commas, quotes or ..)',
  );

/** A MAC for the guest's NIC: unicast (first byte even). */
export const VmMac = z.string().regex(/^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$/, 'a unicast MAC like 52:54:00:12:34:56');

/** Which libvirt to ask (test:///default is libvirt's own in-memory driver: it needs no daemon). */
export const VmConnect = z.enum(['qemu:///system', 'qemu:///session', 'test:///default']).default('qemu:///system');

/** `lockstep protect A B`: the demo guest, or the user's own VM from its disk image on host A. */
export const protectCommand = {
  input: z
    .object({
      a: HostRef,
      b: HostRef,
      guestIp: z
        .string()
        .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "the guest's address on the public network, like 192.168.1.50/24")
        .optional(),
      disk: VmHostDisk.optional().describe('your own VM: its disk image on host A (HOST:/PATH, qcow2 or raw; never changed: the pair runs a raw copy)'),
      memory: z.number().int().min(64).max(1_048_576).optional().describe('MiB of guest RAM (with --disk)'),
      cpus: z.number().int().min(1).max(64).optional().describe('vCPUs (with --disk)'),
      mac: VmMac.optional().describe("the guest NIC's MAC (with --disk; keep the one its network setup expects)"),
      port: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .optional()
        .describe('a TCP port of the guest that answers (with --disk): protect waits until it serves through the pair'),
    })
    .strict(),
  summary:
    'Run a VM as a QEMU COLO pair: primary on host A, secondary in lockstep on host B (the demo guest, or your own with --disk HOST:/PATH --memory MIB --cpus N)',
  positional: ['a', 'b'],
  long: true,
} as const;

export const vmCommands = {
  'vm.list': {
    input: z.object({ host: HostRef, connect: VmConnect }).strict(),
    summary: 'List the VMs libvirt has on a host (to choose one to protect)',
    positional: ['host'],
  },
  'vm.inspect': {
    input: z
      .object({
        host: HostRef,
        peer: HostRef.optional().describe('the other host of the pair: its QEMU, machine types, OVMF and memory are checked too'),
        domain: VmDomainName.optional(),
        disk: VmDiskPath.optional(),
        memory: z.number().int().min(32).max(4_194_304).optional().describe('MiB (with --disk)'),
        cpus: z.number().int().min(1).max(256).optional(),
        mac: VmMac.optional(),
        boot: z.enum(['bios', 'uefi']).optional(),
        bridge: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'a Linux bridge name like br0')
          .optional(),
        connect: VmConnect,
      })
      .strict(),
    summary:
      'Read a VM (--domain NAME from libvirt, or --disk PATH --memory MIB --cpus N) and say what COLO can carry of it, each finding with its fix; changes nothing',
    positional: ['host'],
  },
} as const;
