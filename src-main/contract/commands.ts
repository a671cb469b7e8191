/**
 * The command map: name → input schema (validated at every door) + CLI shape.
 * Output types live in `Outputs` below; a type test pins that both maps agree.
 */
import { z } from 'zod';
import type { AppInfo, EventRecord, PlanDTO } from './dto.js';
import type { ClientProbeResult, LabStatus } from './lab.js';
import type { DiscoveryResult, HostDTO } from './hosts.js';
import type { DrillReport, PairStatus } from './lockstep.js';
import type { LastPreflight, PreflightReport } from './preflight.js';
import type { LinkStatus, MirrorStatusDTO } from './link.js';
import type { ConsoleDTO } from './console.js';
import type { AgentStatus } from './agent.js';
import type { VmInspection, VmListing } from './vm.js';
import type { MaintenanceStatus } from './maintenance.js';
import { GUEST_WATCH_SECONDS, type GuestPeekDTO } from './booth.js';
import type { ClusterStatusDTO } from './cluster.js';

/** A name that is safe everywhere: files, shells, SQL, DOM. */
import { SafeName, HostAddress, HostRef, StreamId, PlanId } from './command-inputs.js';
import { protectCommand, vmCommands } from './commands-vm.js';

export { SafeName, HostAddress, HostRef, StreamId, PlanId } from './command-inputs.js';
export { VmDomainName, VmDiskPath, VmConnect, VmHostDisk, VmMac } from './commands-vm.js';

const empty = z.object({}).strict();

export interface CommandSpec {
  input: z.ZodObject;
  summary: string;
  /** CLI: which input keys are given positionally, in order */
  positional?: readonly string[];
  /** runs a plan: the CLI follows its progress until it ends */
  long?: boolean;
}

export const commands = {
  'app.info': { input: empty, summary: 'Show version, data folder and database of this app' },
  'events.list': {
    input: z
      .object({
        limit: z.number().int().min(1).max(1000).default(200),
        afterId: z.number().int().min(0).optional(),
        query: z.string().max(200).optional(),
      })
      .strict(),
    summary: 'List recorded events, newest last (search with --query)',
  },
  'events.note': {
    input: z.object({ message: z.string().trim().min(1).max(500) }).strict(),
    summary: 'Write a note into the event history',
    positional: ['message'],
  },
  'tasks.list': { input: empty, summary: 'List plans (setup tasks) with their steps' },
  'tasks.cancel': {
    input: z.object({ planId: PlanId }).strict(),
    summary: 'Cancel a running plan (the current step stops at its next check)',
    positional: ['planId'],
  },
  'lab.up': {
    input: z.object({ kernel: z.boolean().default(false) }).strict(),
    summary: 'Start the virtual lab: two simulated KVM hosts on this machine (needs root)',
    long: true,
  },
  'lab.status': { input: empty, summary: 'Show the virtual lab: hosts, addresses, keys, processes' },
  'lab.power': {
    input: z.object({ host: SafeName, state: z.enum(['on', 'off']) }).strict(),
    summary: 'Power a lab host off (every process killed, NICs down) or on again (NICs up, sshd started)',
    positional: ['host', 'state'],
    long: true,
  },
  'lab.split': {
    input: z.object({ state: z.enum(['on', 'off']) }).strict(),
    summary: 'Split the lab hosts from each other (crossover and public path cut, both still reach the desktop and the client), or heal the split',
    positional: ['state'],
  },
  'lab.down': { input: empty, summary: 'Remove every namespace, link and process the virtual lab made', long: true },
  'lab.client': {
    input: z
      .object({
        probe: z.enum(['http', 'stream']),
        path: z
          .string()
          .regex(/^\/[A-Za-z0-9._~/-]{0,200}$/, 'an absolute URL path like /')
          .default('/'),
        seconds: z.number().min(0.1).max(600).default(1),
        intervalMs: z.number().int().min(5).max(10_000).default(100),
        /** http: end early once answers stopped for ≥ 1 s and came back (3 answers since): a restart seen whole */
        untilRecovered: z.boolean().default(false),
      })
      .strict(),
    summary:
      "Probe the demo guest from the lab's client namespace (http: poll the counter; stream: hold the TCP stream; --until-recovered: stop once a gap has ended)",
    positional: ['probe'],
  },
  'hosts.discover': {
    input: z
      .object({
        cidr: z
          .string()
          .regex(/^\d{1,3}(\.\d{1,3}){3}(\/(1[6-9]|2\d|3[0-2]))?$/, 'an IPv4 network from /16 to /32 like 192.168.1.0/24, or one address like 192.168.1.20')
          .optional(),
        ports: z
          .string()
          .regex(/^\d{1,5}(,\d{1,5}){0,7}$/, 'a comma-separated list of ports, like 22,2222')
          .default('22'),
      })
      .strict(),
    summary: 'Find SSH hosts on the local networks (or --cidr), and in ~/.ssh/config',
  },
  'hosts.add': {
    input: z
      .object({
        address: HostAddress,
        port: z.number().int().min(1).max(65535).default(22),
        user: z
          .string()
          .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a Unix user name')
          .default('root'),
        keyFile: z
          .string()
          .regex(/^\/[^\0\n\r]{1,4095}$/, 'an absolute path to a private key')
          .optional(),
        acceptFingerprint: z
          .string()
          .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a fingerprint like SHA256:… (43 characters after the colon)')
          .optional(),
      })
      .strict(),
    summary: 'Connect to a host over SSH and pin its host key (first contact asks you to confirm the fingerprint)',
    positional: ['address'],
  },
  'hosts.addLab': { input: empty, summary: "Add the virtual lab's two hosts (their keys were made by this app)" },
  'hosts.list': { input: empty, summary: 'List added hosts with their pinned host keys' },
  'hosts.forget': {
    input: z.object({ host: HostRef }).strict(),
    summary: 'Forget a host and its pinned key',
    positional: ['host'],
  },
  'lockstep.protect': protectCommand,
  'lockstep.status': { input: empty, summary: 'Show the pair: COLO mode per side, checkpoints, pause time' },
  'lockstep.reprotect': {
    input: z
      .object({
        verify: z
          .boolean()
          .default(false)
          .describe('on DRBD: after the resync, compare both disks online (drbdadm verify; reads both disks whole, slows the guest meanwhile)'),
      })
      .strict(),
    summary:
      'After a failover (or when the secondary stalled): a fresh secondary on the other host, its disk made identical (DRBD: only what changed; else a full copy host to host), lockstep again',
    long: true,
  },
  'lockstep.failover': { input: empty, summary: 'Fail over now (what the host agent does when the primary dies)' },
  'lockstep.stop': { input: empty, summary: 'Stop both VMs of the pair (quit → SIGTERM → SIGKILL)', long: true },
  'lockstep.unprotect': {
    input: z.object({ confirm: z.string().max(64).optional() }).strict(),
    summary:
      'End the protection: the VM keeps running as one plain VM on the host where it runs now, its disk kept; the other host’s VM, disk copy and files, the host agents and the pair’s record removed (asks for --confirm HOST, the host it is removed from)',
    long: true,
  },
  'host.maintenance': {
    input: z
      .object({
        action: z.enum(['enter', 'exit', 'status']),
        host: HostRef.optional(),
        failback: z.boolean().default(false).describe('exit: move the primary back to the host it ran on before (a second planned switchover)'),
      })
      .strict(),
    summary:
      'Maintenance: enter HOST (a planned switchover if it runs the primary, its VM stopped, the agents held: reboot it), exit HOST (re-protect, --failback), status',
    positional: ['action', 'host'],
    long: true,
  },
  'agent.deploy': {
    input: z
      .object({
        witness: z
          .string()
          .regex(
            /^(local|\d{1,3}(\.\d{1,3}){3}:\d{1,5})$/,
            '"local" (this machine runs the witness) or the IPv4:port of a witness you run, like 192.168.1.1:7790',
          )
          .default('local'),
        timeoutMs: z.number().int().min(100).max(10_000).default(300),
      })
      .strict(),
    summary:
      'Deploy the host agents on the protected pair (heartbeats over crossover + public, a witness): they fail over without the app; redeploy after a re-protect',
    long: true,
  },
  'agent.status': { input: empty, summary: 'Show both host agents (armed?, paths, witness, last decision and action) and the witness' },
  'agent.stop': { input: empty, summary: 'Stop both host agents (disarmed first) and the witness this app runs', long: true },
  'drill.run': {
    input: z
      .object({
        mode: z.enum(['kill-primary-vm', 'power-off-host', 'cut-public-link', 'cut-crossover', 'kill-secondary']),
        seconds: z.number().int().min(6).max(60).optional().describe('how long the downtime meter watches (default 14)'),
      })
      .strict(),
    summary: 'Pull the plug: fail part of the pair for real and measure what a client saw',
    positional: ['mode'],
    long: true,
  },
  'guest.peek': { input: empty, summary: "Read the protected guest's counter once (what a visitor sees)" },
  'guest.watch': {
    input: z.object({ seconds: z.number().int().min(1).max(120).default(GUEST_WATCH_SECONDS) }).strict(),
    summary: "Push the guest's counter as guest-peeked events, twice a second, for the next SECONDS (a booth window renews it)",
  },
  'drill.list': { input: empty, summary: 'List past drills with their downtime figures' },
  'drill.export': {
    input: z.object({ id: z.number().int().min(1) }).strict(),
    summary: 'Export a drill as one self-contained HTML report',
    positional: ['id'],
  },
  'preflight.run': {
    input: z.object({ a: HostRef, b: HostRef.optional(), guestRamMiB: z.number().int().min(16).max(1_048_576).default(128) }).strict(),
    summary: 'Check one host or a pair: what stands between them and protection, with the exact fix for each problem',
    positional: ['a', 'b'],
  },
  'preflight.last': { input: empty, summary: 'Show the last preflight report (the hosts it checked and when), or null before the first' },
  'link.setup': {
    input: z
      .object({
        a: HostRef,
        b: HostRef,
        subnet: z
          .string()
          .regex(/^\d{1,3}(\.\d{1,3}){3}\/30$/, 'a /30 like 10.99.0.0/30')
          .default('10.99.0.0/30'),
        mtu: z.enum(['auto', '1500', '9000']).default('auto'),
      })
      .strict(),
    summary: 'Find the NICs cabled to each other, address them, set MTU, persist, and measure the link',
    positional: ['a', 'b'],
    long: true,
  },
  'link.status': { input: empty, summary: 'Show the replication link: NICs, addresses, MTU, RTT and bandwidth' },
  'link.remove': { input: empty, summary: 'Undo exactly what link setup did', long: true },
  'mirror.setup': {
    input: z
      .object({
        diskA: z
          .string()
          .regex(/^\/dev\/[A-Za-z0-9._/-]{1,100}$/, 'a block device like /dev/vdb')
          .optional(),
        diskB: z
          .string()
          .regex(/^\/dev\/[A-Za-z0-9._/-]{1,100}$/, 'a block device like /dev/vdb')
          .optional(),
        wipe: z
          .array(
            z
              .string()
              .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,253}(:\d{1,5})?:\/dev\/[A-Za-z0-9._/-]{1,100}$/, 'HOST:/dev/X naming the host and the device to overwrite'),
          )
          .max(2)
          .default([]),
        blank: z.boolean().default(false),
      })
      .strict(),
    summary: 'Mirror a disk of each host with DRBD over the link (initial sync with progress); refuses disks in use unless --wipe HOST:/dev/X',
    long: true,
  },
  'mirror.skip': {
    input: empty,
    summary: "Go on without a DRBD mirror on a pair that has no DRBD (per its preflight): Protect then copies the guest's disk in full",
  },
  'mirror.status': { input: empty, summary: 'Show the DRBD mirror: connection, roles, disk states, sync progress' },
  'mirror.verify': { input: empty, summary: 'Compare both disks online (drbdadm verify) and report blocks out of sync', long: true },
  'mirror.switch': {
    input: z.object({ primary: HostRef }).strict(),
    summary: 'Make this host the DRBD primary (the other becomes secondary)',
    positional: ['primary'],
  },
  'mirror.resolve': {
    input: z.object({ survivor: HostRef }).strict(),
    summary: 'Resolve a split brain: keep the survivor’s data, discard the other side’s changes',
    positional: ['survivor'],
    long: true,
  },
  'cluster.setup': {
    input: z
      .object({
        tokenMs: z.number().int().min(300).max(60_000).optional(),
        witness: z
          .string()
          .regex(/^(local|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/, '"local" (this app runs corosync-qnetd) or the IPv4 address of a corosync-qnetd')
          .optional(),
        /** the guest Pacemaker runs on the promoted host (the demo guest, its disk on the DRBD device) */
        guest: z.enum(['demo']).optional(),
      })
      .strict(),
    summary:
      'Run the mirror under Pacemaker + Corosync (the Mirror tier): two Corosync links, DRBD as a promotable clone, DRBD resource-level fencing; --guest demo: the demo guest as a resource on the promoted host; --witness local|IP: corosync-qnetd as the third vote (local: run by this app)',
    long: true,
  },
  'cluster.status': {
    input: empty,
    summary: 'Show the cluster as crm_mon reports it (nodes, quorum, resources, failed actions) and what each constraint does',
  },
  'cluster.remove': {
    input: z.object({ confirm: z.string().max(64).optional(), keepGuest: z.boolean().default(false) }).strict(),
    summary:
      'Stop Pacemaker and Corosync and remove what cluster setup made (asks for --confirm NAME; DRBD keeps running; the guest is stopped, or left running where it runs with --keep-guest)',
    long: true,
  },
  'console.open': {
    input: z
      .object({
        target: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('host'), host: HostRef }).strict(),
          z.object({ kind: z.literal('vm'), side: z.enum(['primary', 'secondary']) }).strict(),
        ]),
        cols: z.number().int().min(10).max(500).default(100),
        rows: z.number().int().min(5).max(200).default(30),
      })
      .strict(),
    summary: 'Open a VM serial console or a host shell (output arrives as console-printed events)',
  },
  'console.input': {
    input: z.object({ streamId: StreamId, data: z.string().max(65536) }).strict(),
    summary: 'Type into an open console',
  },
  'console.resize': {
    input: z.object({ streamId: StreamId, cols: z.number().int().min(10).max(500), rows: z.number().int().min(5).max(200) }).strict(),
    summary: 'Resize an open console',
  },
  'console.close': { input: z.object({ streamId: StreamId }).strict(), summary: 'Close a console' },
  'console.list': { input: empty, summary: 'List open consoles' },
  ...vmCommands,
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof commands;
export type Input<K extends CommandName> = z.input<(typeof commands)[K]['input']>;
export type ParsedInput<K extends CommandName> = z.output<(typeof commands)[K]['input']>;

export interface Outputs {
  'app.info': AppInfo;
  'events.list': EventRecord[];
  'events.note': EventRecord;
  'tasks.list': PlanDTO[];
  'tasks.cancel': PlanDTO;
  'lab.up': LabStatus;
  'lab.status': LabStatus;
  'lab.power': LabStatus;
  'lab.split': LabStatus;
  'lab.down': LabStatus;
  'lab.client': ClientProbeResult;
  'hosts.discover': DiscoveryResult;
  'hosts.add': HostDTO;
  'hosts.addLab': HostDTO[];
  'hosts.list': HostDTO[];
  'hosts.forget': { forgotten: string };
  'lockstep.protect': PairStatus;
  'lockstep.status': PairStatus;
  'lockstep.reprotect': PairStatus;
  'lockstep.failover': PairStatus;
  'lockstep.stop': PairStatus;
  'lockstep.unprotect': PairStatus;
  'host.maintenance': MaintenanceStatus;
  'agent.deploy': AgentStatus;
  'agent.status': AgentStatus;
  'agent.stop': AgentStatus;
  'drill.run': DrillReport;
  'drill.list': DrillReport[];
  'guest.peek': GuestPeekDTO;
  'guest.watch': { until: number };
  'drill.export': { filename: string; html: string };
  'preflight.run': PreflightReport;
  'preflight.last': LastPreflight | null;
  'link.setup': LinkStatus;
  'link.status': LinkStatus;
  'link.remove': LinkStatus;
  'mirror.setup': MirrorStatusDTO;
  'mirror.skip': MirrorStatusDTO;
  'mirror.status': MirrorStatusDTO;
  'mirror.verify': MirrorStatusDTO;
  'mirror.switch': MirrorStatusDTO;
  'mirror.resolve': MirrorStatusDTO;
  'cluster.setup': ClusterStatusDTO;
  'cluster.status': ClusterStatusDTO;
  'cluster.remove': ClusterStatusDTO;
  'console.open': ConsoleDTO;
  'console.input': { ok: true };
  'console.resize': { ok: true };
  'console.close': { ok: true };
  'console.list': ConsoleDTO[];
  'vm.list': VmListing;
  'vm.inspect': VmInspection;
}

export type Output<K extends CommandName> = Outputs[K];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(commands, name);
}
