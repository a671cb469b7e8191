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

/** Which libvirt to ask (test:///default is libvirt's own in-memory driver: it needs no daemon). */
export const VmConnect = z.enum(['qemu:///system', 'qemu:///session', 'test:///default']).default('qemu:///system');

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
        mac: z
          .string()
          .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'a MAC like 52:54:00:12:34:56')
          .optional(),
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
