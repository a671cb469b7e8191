import { join } from 'node:path';
import { LockstepError } from '../contract/index.js';
import type { HostDTO } from '../contract/hosts.js';
import type { SshSession } from '../hosts/ssh-session.js';
import type { Step, StepContext } from '../tasks/step.js';
import { ensureFile, remoteSha256, type UploadFor } from '../hosts/remote-files.js';
import { killQemu, pidOf } from '../hosts/vm-process.js';
import { ensureProxies, joinColo } from './colo-join.js';
import { GUEST, inLockstepRecord, type PairRecord } from './pair-record.js';
import { HOST_PATHS, vmPaths } from '../hosts/vm-layout.js';
import { Qmp } from '../hosts/qmp.js';
import { primaryArgs, secondaryArgs, PORTS, type VmSpec } from './colo-args.js';
import type { DiskLayer } from './disk-layer.js';
import { copyDiskHostToHost } from './disk-copy.js';
import { USER_DISK, userVmMemory } from './user-vm.js';
import { convertUserDisk } from './user-disk.js';

export interface ProtectParams {
  a: string;
  b: string;
  /** re-protect on DRBD: verify both disks online after the resync */
  verify?: boolean;
}

export interface ColoContext {
  host(ref: string): HostDTO;
  session(h: HostDTO): Promise<SshSession>;
  record(): PairRecord | undefined;
  save(r: PairRecord): void;
  guestDir: string;
  shimFile: string;
  log(msg: string): void;
  disks: DiskLayer;
  /** sets the replication link up again (a host that rebooted without persistence lost its address); false: no link to restore */
  relink(): Promise<boolean>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pure: the VM of a pair as QEMU runs it: the demo guest (direct kernel boot) or the user's VM (SeaBIOS boots its own disk). */
export function spec(r: PairRecord, role: 'primary' | 'secondary'): VmSpec {
  const lib = HOST_PATHS.lib;
  const vm = r.vm;
  return {
    role,
    accel: r.accel,
    qemuMajor: r.qemuMajor,
    memory: vm ? userVmMemory(vm.memoryMiB, r.accel) : GUEST.memory,
    cpus: vm?.cpus ?? 1,
    boot: vm
      ? { kind: 'disk' }
      : {
          kind: 'kernel',
          kernel: `${lib}/vmlinuz`,
          initrd: `${lib}/initrd.img`,
          append: `console=ttyS0 quiet guest_ip=${r.guestCidr} guest_hostname=lockstep-demo guest_stream_time=0`,
        },
    mac: vm?.mac ?? GUEST.mac,
    tap: HOST_PATHS.tap,
    run: HOST_PATHS.run,
    xa: r.xa,
    xb: r.xb,
    disk: r.disk?.device ?? (vm ? USER_DISK : `${lib}/disk.img`),
    active: `${HOST_PATHS.run}/active.qcow2`,
    hidden: `${HOST_PATHS.run}/hidden.qcow2`,
  };
}

/** env LD_PRELOAD=shim qemu … under TCG only (KVM hosts never get the lab workaround). */
function launchArgv(r: PairRecord, role: 'primary' | 'secondary', args: string[]): string[] {
  const qemu = r.accel === 'tcg' ? ['env', `LD_PRELOAD=${HOST_PATHS.shim}`, 'qemu-system-x86_64', ...args] : ['qemu-system-x86_64', ...args];
  // detached in its own session, stdio off the SSH channel (stderr kept in a log); we then wait for its QMP socket
  return ['setsid', '-f', 'sh', '-c', 'log=$1; shift; exec "$@" </dev/null >>"$log" 2>&1', 'sh', `${HOST_PATHS.run}/${role}.stderr`, ...qemu];
}

/** Waits until the VM's QMP socket greets (QEMU is up), or fails with its stderr. */
async function waitForQmp(s: SshSession, role: 'primary' | 'secondary'): Promise<Qmp> {
  const until = Date.now() + 40_000;
  for (;;) {
    try {
      return await Qmp.open(s, vmPaths(HOST_PATHS.run, role).qmp, { timeoutMs: 2000 });
    } catch (e) {
      if (Date.now() > until) {
        const err = await s.exec(['tail', '-5', `${HOST_PATHS.run}/${role}.stderr`]);
        throw new LockstepError({
          code: `${role}-did-not-start`,
          message: `The ${role} QEMU did not start.`,
          cause: err.stdout.trim().slice(-400) || (e as Error).message,
          host: s.target.address,
        });
      }
      await sleep(150);
    }
  }
}

async function coloMode(s: SshSession, role: 'primary' | 'secondary'): Promise<string | null> {
  let q: Qmp | undefined;
  try {
    q = await Qmp.open(s, vmPaths(HOST_PATHS.run, role).qmp, { timeoutMs: 3000 });
    const st = await q.exec<{ mode: string }>('query-colo-status', undefined, { timeoutMs: 3000 });
    return st.mode;
  } catch {
    return null;
  } finally {
    q?.close();
  }
}

export { coloMode };

export function protectSteps(ctx: ColoContext): Step<ProtectParams>[] {
  const pair = () => requirePair(ctx);
  const both = (p: ProtectParams) => sessions(ctx, p);
  return [
    {
      id: 'stage',
      title: 'Copy the guest (kernel, initrd) and, under TCG, the lab workaround to both hosts; make the disks identical',
      // an interrupted protect that reached lockstep before it could record it: nothing to redo
      probe: async ({ params }) => {
        const { sa, sb } = await both(params);
        return (await coloMode(sa, 'primary')) === 'primary' && (await coloMode(sb, 'secondary')) === 'secondary';
      },
      apply: async (step) => {
        const { params } = step;
        const { sa, sb } = await both(params);
        const r = pair();
        // a cold start: VMs left by an interrupted protect are stopped first (their disk writes are
        // on the disk already), so the disk is copied while nothing writes to it
        for (const s of [sa, sb]) for (const role of ['primary', 'secondary'] as const) await killQemu(s, vmPaths(HOST_PATHS.run, role).pid, 1000);
        const again = `lockstep lockstep protect ${ctx.host(params.a).name} ${ctx.host(params.b).name}`;
        const forA = { host: ctx.host(params.a).name, again };
        const forB = { host: ctx.host(params.b).name, again };
        await stageHost(ctx, sa, r, forA);
        await stageHost(ctx, sb, r, forB);
        // the primary's disk is the truth (it keeps the guest's data across stop/protect); the secondary gets an identical copy
        if (r.vm) {
          // the user's VM: its image converted to raw on host A (the image itself only read), then copied to B
          await convertUserDisk(sa, r.vm, await virtualSize(sa, r.vm.source), step, forA);
          await copyDiskHostToHost(sa, sb, USER_DISK, r.xb, step, forB);
        } else if (r.disk) await drbdDisk(ctx, sa, params, step);
        else {
          const disk = `${HOST_PATHS.lib}/disk.img`;
          if ((await remoteSha256(sa, disk)) === null) await blankDisk(sa, disk);
          await copyDiskHostToHost(sa, sb, disk, r.xb, step, forB);
        }
      },
      verify: async () => {},
    },
    networkStep(ctx, 'both'),
    secondaryStep(ctx),
    {
      id: 'primary',
      title: 'Start the primary VM and bring both into lockstep (COLO)',
      probe: async ({ params }) => {
        const { sa } = await both(params);
        return (await coloMode(sa, 'primary')) === 'primary';
      },
      apply: async (step) => {
        const { params, signal } = step;
        const { sa, sb } = await both(params);
        // a secondary that an earlier (interrupted) attempt already tried to join is started afresh
        if (pair().secondaryUsed) await secondaryStep(ctx).apply(step);
        ctx.save({ ...pair(), secondaryUsed: true });
        const r = pair();
        const s = spec(r, 'primary');
        await killQemu(sa, vmPaths(HOST_PATHS.run, 'primary').pid, 1000);
        await killQemu(sa, vmPaths(HOST_PATHS.run, 'secondary').pid, 1000);
        await sa.check(launchArgv(r, 'primary', primaryArgs(s)), { timeoutMs: 30_000 });
        const q = await waitForQmp(sa, 'primary');
        try {
          // the chardevs and filters are on its command line: wait for the secondary, then join
          await ensureProxies(q, r.xa, signal);
          // the guest has not run yet (-S): from here the secondary's disk follows through QEMU, not DRBD
          if (r.disk) await ctx.disks.split();
          const { replNode } = await joinColo(q, { xb: r.xb, generation: r.generation ?? 0, signal });
          ctx.save({ ...pair(), replNode });
        } finally {
          q.close();
        }
        await waitSecondaryMode(sb);
      },
      verify: async ({ params }) => {
        const { sa } = await both(params);
        if ((await coloMode(sa, 'primary')) !== 'primary') throw new LockstepError({ code: 'colo-primary', message: 'The primary is not in COLO mode.' });
        ctx.save(inLockstepRecord(pair(), Date.now()));
      },
    },
  ];
}

/** Starts a fresh secondary on host `b` (cold start and re-protect): active/hidden overlays, -incoming, NBD export. */
/** Crossover reachable from the primary; the guest's tap on the bridge of both hosts, or only of the returned secondary. */
export function networkStep(ctx: ColoContext, taps: 'both' | 'secondary'): Step<ProtectParams> {
  return {
    id: 'network',
    title: `Crossover reachable; a tap for the guest on ${taps === 'both' ? 'each host’s bridge' : 'the returned host’s bridge'}`,
    probe: async () => false,
    apply: async ({ params }) => {
      const { sa, sb } = await sessions(ctx, params);
      for (const s of taps === 'both' ? [sa, sb] : [sb]) await guestTap(s);
      const xb = requirePair(ctx).xb;
      // a host back from a power cut may have lost its link address: the link's own setup restores it
      await crossoverPing(sa, xb).catch(async (e: unknown) => {
        if (!(await ctx.relink())) throw e;
        ctx.log('The replication link was set up again');
        await crossoverPing(sa, xb);
      });
    },
    verify: async () => {},
  };
}

export function secondaryStep(ctx: ColoContext): Step<ProtectParams> {
  const pair = () => requirePair(ctx);
  const both = (p: ProtectParams) => sessions(ctx, p);
  return {
    id: 'secondary',
    title: 'Start the secondary VM (waits for the primary’s state), export its disk over NBD',
    probe: async ({ params }) => {
      const { sb } = await both(params);
      return (await coloMode(sb, 'secondary')) === 'secondary';
    },
    apply: async ({ params }) => {
      const { sb } = await both(params);
      const r = pair();
      const s = spec(r, 'secondary');
      await killQemu(sb, vmPaths(HOST_PATHS.run, 'secondary').pid, 1000);
      await killQemu(sb, vmPaths(HOST_PATHS.run, 'primary').pid, 1000);
      // on DRBD the secondary's QEMU opens its side of the device: Primary too, for the join only
      if (r.disk) await ctx.disks.openOn(ctx.host(params.b));
      const size = r.disk ? (await sb.check(['blockdev', '--getsize64', s.disk])).trim() : (await sb.check(['stat', '-c', '%s', s.disk])).trim();
      for (const f of [s.active!, s.hidden!]) {
        await sb.exec(['rm', '-f', f]);
        await sb.check(['qemu-img', 'create', '-q', '-f', 'qcow2', f, size]);
      }
      await sb.check(launchArgv(r, 'secondary', secondaryArgs(s)), {
        timeoutMs: 30_000,
        fix: 'Check the host has QEMU with COLO (lockstep preflight run A B).',
      });
      const q = await waitForQmp(sb, 'secondary');
      try {
        await q.exec('migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }] });
        await q.exec('nbd-server-start', { addr: { type: 'inet', data: { host: r.xb, port: String(PORTS.nbd) } } });
        await q.exec('nbd-server-add', { device: 'parent0', writable: true });
        await q.exec('migrate-incoming', { uri: `tcp:${r.xb}:${PORTS.migration}` });
      } finally {
        q.close();
      }
      ctx.save({ ...pair(), secondaryUsed: false });
      ctx.log(`Secondary VM started on ${sb.target.address}`);
    },
    verify: async ({ params }) => {
      const { sb } = await both(params);
      if ((await pidOf(sb, vmPaths(HOST_PATHS.run, 'secondary').pid)) === null) {
        const log = await sb.exec(['tail', '-5', vmPaths(HOST_PATHS.run, 'secondary').serialLog]);
        throw new LockstepError({
          code: 'secondary-died',
          message: 'The secondary QEMU exited right after starting.',
          cause: log.stdout.trim().slice(-300),
          host: sb.target.address,
        });
      }
    },
  };
}

export function requirePair(ctx: ColoContext): PairRecord {
  const r = ctx.record();
  if (!r) throw new LockstepError({ code: 'no-pair', message: 'The pair record is missing.', fix: 'lockstep lockstep protect HOST_A HOST_B' });
  return r;
}

export async function sessions(ctx: ColoContext, p: ProtectParams): Promise<{ sa: SshSession; sb: SshSession }> {
  return { sa: await ctx.session(ctx.host(p.a)), sb: await ctx.session(ctx.host(p.b)) };
}

/** The size the guest sees of an image on a host (qemu-img info). */
async function virtualSize(s: SshSession, image: string): Promise<number> {
  const out = await s.check(['qemu-img', 'info', '-U', '--output=json', image], { fix: `Check the image with: qemu-img info ${image}` });
  const size = Number((JSON.parse(out) as { 'virtual-size'?: unknown })['virtual-size']);
  if (!Number.isSafeInteger(size) || size <= 0) throw new LockstepError({ code: 'no-disk', message: `qemu-img says no size for ${image}.` });
  return size;
}

/** Kernel, initrd and (TCG only) the lab workaround on a host; never its disk. */
export async function stageHost(ctx: ColoContext, s: SshSession, r: PairRecord, o: UploadFor): Promise<void> {
  await s.check(['mkdir', '-p', HOST_PATHS.lib, HOST_PATHS.run, '/var/lib/lockstep/lib']);
  for (const f of ['vmlinuz', 'initrd.img']) await ensureFile(s, join(ctx.guestDir, f), `${HOST_PATHS.lib}/${f}`, o);
  if (r.accel === 'tcg') await ensureFile(s, ctx.shimFile, HOST_PATHS.shim, o);
}

/**
 * The guest's disk on DRBD: connected with the primary's side kept (a pair a stop or a failover
 * left apart resyncs only what changed), and, once per device, the demo guest's blank counter disk
 * laid on it from the primary host; DRBD carries it to the other host over the crossover.
 */
async function drbdDisk(ctx: ColoContext, sa: SshSession, params: ProtectParams, step: StepContext<ProtectParams>): Promise<void> {
  const r = requirePair(ctx);
  const got = await ctx.disks.join(ctx.host(params.a), step);
  if (got) ctx.save({ ...requirePair(ctx), lastResync: { how: 'drbd', ...got, at: Date.now() } });
  if (ctx.disks.seeded()) return;
  await sa.check(['dd', 'if=/dev/zero', `of=${r.disk!.device}`, 'bs=1M', `count=${GUEST.diskMiB}`, 'oflag=direct', 'conv=fsync', 'status=none'], {
    fix: `Check ${r.disk!.device} on ${sa.target.address} (lockstep mirror status)`,
  });
  ctx.disks.markSeeded();
  ctx.log(`The demo guest's disk (${GUEST.diskMiB} MiB, blank) laid on ${r.disk!.device}; DRBD made it identical on both hosts`);
}

/** The demo guest's disk where a host has none: blank (the counter starts at 0), made there, never uploaded. */
export async function blankDisk(s: SshSession, disk: string): Promise<void> {
  await s.check(['dd', 'if=/dev/zero', `of=${disk}`, 'bs=1', 'count=0', `seek=${GUEST.diskMiB * 2 ** 20}`, 'status=none']);
}

/** The guest's NIC: a tap in the host's bridge. */
export async function guestTap(s: SshSession): Promise<void> {
  const has = await s.exec(['ip', 'link', 'show', 'dev', HOST_PATHS.tap]);
  if (has.code !== 0) await s.check(['ip', 'tuntap', 'add', 'dev', HOST_PATHS.tap, 'mode', 'tap']);
  const br = await s.exec(['ip', 'link', 'set', HOST_PATHS.tap, 'master', HOST_PATHS.bridge, 'up']);
  if (br.code !== 0) {
    throw new LockstepError({
      code: 'no-bridge',
      message: `${s.target.address} has no bridge ${HOST_PATHS.bridge} for the guest's NIC.`,
      fix: 'Put the host’s public NIC in a bridge named br0 (the usual KVM host setup), then protect again.',
      host: s.target.address,
    });
  }
}

export async function crossoverPing(sa: SshSession, xb: string): Promise<void> {
  const ping = await sa.exec(['ping', '-c', '2', '-W', '1', xb]);
  if (ping.code !== 0)
    throw new LockstepError({
      code: 'crossover-down',
      message: `The secondary's crossover address ${xb} does not answer from the primary.`,
      fix: 'lockstep link setup A B',
    });
}

export async function waitSecondaryMode(sb: SshSession): Promise<void> {
  // the first checkpoint carries the whole RAM: slow under TCG on a loaded machine
  const until = Date.now() + 45_000;
  while ((await coloMode(sb, 'secondary')) !== 'secondary') {
    if (Date.now() > until) throw new LockstepError({ code: 'colo-secondary', message: 'The secondary did not enter COLO.', host: sb.target.address });
    await sleep(200);
  }
}
