import type { Environment } from '../hosts/environment.js';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { decideAccel, parseCpuFlags } from '../hosts/accel.js';
import { join } from 'node:path';
import { LockstepError, type LabStatus } from '../contract/index.js';
import type { KeyValueRepo } from '../store/kv-repo.js';
import type { TaskRunner } from '../tasks/runner.js';
import type { EventBus } from '../events/event-bus.js';
import { labRecords, type LabRecord } from './lab-state.js';
import type { RecordRepo } from '../store/record-repo.js';
import { kernelStateDir, labDownKind, labUpKind, type LabDownParams, type LabUpParams } from './lab-plans.js';
import { leftovers, pidAlive } from './observe.js';
import { checkPrerequisites } from './prerequisites.js';
import { DEFAULT_PUBLIC_NET, planLayout, validPrefix, validPublicNet } from './topology.js';
import { routesOverlapping } from './routes.js';
import { mustLocal, runLocal, which } from '../hosts/local-exec.js';
import { chooseKernelKind, kernelHostFiles } from './kernel-kind.js';

function upParams(rec: LabRecord): LabUpParams {
  return { flavour: rec.flavour, kernelKind: rec.kernel?.kind, layout: rec.layout, dir: rec.dir, accel: rec.accel };
}

function localAccel(): ReturnType<typeof decideAccel> {
  return decideAccel({ kvmDevice: existsSync('/dev/kvm'), cpuFlags: parseCpuFlags(readFileSync('/proc/cpuinfo', 'utf8')) });
}

/** The embedded default: two simulated KVM hosts on this machine. */
export class VirtualLab implements Environment {
  readonly prefix: string;
  readonly net: string;
  /** the lab's record: owned here, validated on every read */
  private readonly labs: RecordRepo<LabRecord>;

  constructor(
    private readonly deps: { kv: KeyValueRepo; runner: TaskRunner; bus: EventBus; home: string; nativeDir: string; distDir: string },
    prefix = process.env.LOCKSTEP_LAB_PREFIX ?? 'ls',
    net = process.env.LOCKSTEP_LAB_NET ?? DEFAULT_PUBLIC_NET,
  ) {
    if (!validPublicNet(net))
      throw new LockstepError({
        code: 'bad-lab-net',
        message: `LOCKSTEP_LAB_NET must be the first three octets of a /24, like 198.18.77 (got ${JSON.stringify(net)}).`,
        fix: 'unset LOCKSTEP_LAB_NET',
      });
    this.net = net;
    if (!validPrefix(prefix))
      throw new LockstepError({
        code: 'bad-lab-prefix',
        message: `LOCKSTEP_LAB_PREFIX must be 2–6 lowercase letters/digits (got ${JSON.stringify(prefix)}).`,
        fix: 'unset LOCKSTEP_LAB_PREFIX',
      });
    this.prefix = prefix;
    this.labs = labRecords(deps.kv);
    const labDeps = { labs: this.labs, nativeDir: deps.nativeDir, labVmDir: join(deps.distDir, 'labvm') };
    deps.runner.register(labUpKind(labDeps));
    deps.runner.register(labDownKind(labDeps));
  }

  /** the built app (dist/): the client probe's script, the QEMU kernel hosts' image */
  get distDir(): string {
    return this.deps.distDir;
  }

  get dir(): string {
    return join(this.deps.home, 'lab', this.prefix);
  }

  record(): LabRecord | undefined {
    return this.labs.get();
  }

  async status(): Promise<LabStatus> {
    const r = this.record();
    const left = await leftovers(this.prefix);
    if (!r) return left.length ? { state: 'partial', leftovers: left, fix: 'lockstep lab down' } : { state: 'down' };
    const sshdUp = r.layout.hosts.every((h) => r.hosts[h.name]?.off || pidAlive(r.hosts[h.name]?.pid));
    if (r.state !== 'up' || !sshdUp) {
      return {
        state: 'partial',
        leftovers: left.length ? left : ['lab record without running hosts'],
        fix:
          r.state === 'starting'
            ? 'lockstep lab up (resumes) or lockstep lab down'
            : r.state === 'up'
              ? `lockstep lab up${r.flavour === 'kernel' ? ' --kernel' : ''} (restarts the host that died, with its disk)`
              : 'lockstep lab down && lockstep lab up',
      };
    }
    return {
      state: 'up',
      flavour: r.flavour,
      ...(r.flavour === 'kernel' ? { kernelHosts: r.kernel ?? { kind: 'uml' as const, why: 'User-mode Linux.' } } : {}),
      accel: r.accel,
      accelNote: localAccel().why,
      publicCidr: r.layout.publicCidr,
      desktopAddress: r.layout.desktopAddress,
      clientNetns: r.layout.clientNs,
      clientAddress: r.layout.clientAddress,
      user: 'root',
      keyFile: r.keyFile,
      startedAt: r.startedAt,
      hosts: r.layout.hosts.map((h) => ({
        name: h.name,
        address: h.address,
        port: 22,
        fingerprint: r.hosts[h.name]?.fingerprint ?? '',
        netns: r.flavour === 'kernel' ? r.layout.wireNs : h.netns,
        pids: r.hosts[h.name]?.pid ? [r.hosts[h.name]!.pid!] : [],
        nics: h.nics.map((n) => ({ name: n.name, mac: n.mac, role: n.role })),
        power: r.hosts[h.name]?.off ? ('off' as const) : ('on' as const),
        ...(r.flavour === 'kernel' ? { dataDisk: kernelHostFiles(r.kernel?.kind ?? 'uml').dataDisk } : {}),
      })),
    };
  }

  async up(opts: { kernel: boolean }): Promise<LabStatus> {
    const flavour = opts.kernel ? 'kernel' : 'namespaces';
    const existing = this.record();
    if (existing?.state === 'up') {
      const st = await this.status();
      if (st.state === 'up') {
        if (st.flavour !== flavour)
          throw new LockstepError({
            code: 'lab-other-flavour',
            message: `The lab is already up with ${st.flavour} hosts.`,
            fix: 'lockstep lab down, then lockstep lab up' + (opts.kernel ? ' --kernel' : ''),
          });
        this.deps.bus.log('info', 'lab', 'The virtual lab is already running.');
        return st;
      }
      // a host of a running lab died (a killed kernel, a crashed sshd): bring back only what is
      // missing, with the same identity (layout, MACs, keys, data disks), as a real host reboots;
      // rebuilding the whole lab would wipe the surviving host and both data disks
      if (existing.flavour === flavour) return this.repair(existing);
    }
    // kernel hosts: user-mode Linux where it really boots here, else QEMU VMs (decided once per lab)
    const kernel =
      flavour !== 'kernel' ? undefined : existing?.state === 'starting' && existing.kernel ? existing.kernel : await chooseKernelKind(this.deps.nativeDir);
    if (kernel) this.deps.bus.log('info', 'lab', `Kernel hosts: ${kernel.why}`);
    await checkPrerequisites(flavour, { uid: process.getuid?.() ?? -1, has: which, kernelKind: kernel?.kind });
    if (!existing) {
      const clash = await routesOverlapping(`${this.net}.0/24`);
      if (clash.length)
        throw new LockstepError({
          code: 'lab-net-in-use',
          message: `The lab's public network ${this.net}.0/24 is already in use on this machine (${clash.join('; ')}).`,
          fix: 'Pick a free /24 for the lab: LOCKSTEP_LAB_NET=198.18.99 lockstep lab up',
        });
    }
    // a lab interrupted halfway: clean it before building a new one (a resumable plan
    // of this process would have been resumed at start instead)
    if (!existing || existing.state !== 'starting') {
      const left = await leftovers(this.prefix);
      if (left.length) {
        this.deps.bus.log('warn', 'lab', `Cleaning what an interrupted lab left: ${left.join(', ')}`);
        await this.down();
      }
    }
    const rec: LabRecord =
      existing?.state === 'starting' && existing.flavour === flavour
        ? existing
        : {
            state: 'starting',
            flavour,
            ...(kernel ? { kernel } : {}),
            accel: localAccel().accel,
            layout: planLayout(this.prefix, { A: randomBytes(1)[0]! % 2 ? 1 : 2, B: randomBytes(1)[0]! % 2 ? 1 : 2 }, (n) => randomBytes(n), this.net),
            dir: this.dir,
            keyFile: join(this.dir, 'id_ed25519'),
            hosts: {},
            startedAt: Date.now(),
          };
    this.labs.set(rec);
    const params = upParams(rec);
    // an `up` killed halfway left its plan journaled as running: resume that one (each step is
    // probed again, so what was done is skipped) instead of starting a second plan beside it
    const interrupted = existing?.state === 'starting' ? this.deps.runner.resumeInterrupted('lab.up')[0] : undefined;
    const plan = interrupted ? await interrupted.done : await this.deps.runner.run('lab.up', params);
    if (plan.state !== 'done') throw new LockstepError(plan.error ?? { code: 'lab-up-failed', message: 'The lab did not start.' });
    const st = await this.status();
    this.deps.bus.log(
      'info',
      'lab',
      `Virtual lab up: ${rec.layout.hosts.map((h) => `${h.name} ${h.address}`).join(', ')} (${rec.accel === 'kvm' ? 'KVM' : 'TCG: emulated, demo speed'}${rec.kernel ? `; kernel hosts: ${rec.kernel.kind === 'uml' ? 'user-mode Linux' : 'QEMU VMs'}` : ''})`,
    );
    this.deps.bus.emit({ type: 'lab-changed', status: st });
    return st;
  }

  private async repair(rec: LabRecord): Promise<LabStatus> {
    const dead = rec.layout.hosts.filter((h) => !rec.hosts[h.name]?.off && !pidAlive(rec.hosts[h.name]?.pid)).map((h) => h.name);
    this.deps.bus.log('warn', 'lab', `Restarting ${dead.join(' and ') || 'what is missing'} of the running lab (same keys, NICs and disks)`);
    // the lab plan probes every step again: what still runs is skipped
    const plan = await this.deps.runner.run('lab.up', upParams(rec));
    if (plan.state !== 'done')
      throw new LockstepError(
        plan.error ?? { code: 'lab-up-failed', message: `${dead.join(' and ')} did not come back.`, fix: 'lockstep lab down && lockstep lab up' },
      );
    const st = await this.status();
    this.deps.bus.log('info', 'lab', `Lab hosts back: ${dead.join(', ')}`);
    this.deps.bus.emit({ type: 'lab-changed', status: st });
    return st;
  }

  private hostOf(name: string, kernelOk = false): { rec: LabRecord; host: LabRecord['layout']['hosts'][number] } {
    const rec = this.record();
    const host = rec?.state === 'up' ? rec.layout.hosts.find((h) => h.name === name) : undefined;
    if (!rec || !host)
      throw new LockstepError({
        code: 'no-lab-host',
        message: `There is no running lab host called ${name}.`,
        fix: rec?.state === 'up' ? `lockstep lab power ${rec.layout.hosts.map((h) => h.name).join('|')} on|off` : 'lockstep lab up',
      });
    if (rec.flavour !== 'namespaces' && !kernelOk)
      throw new LockstepError({
        code: 'lab-kernel-host-vms',
        message: 'The VMs inside a kernel host are seen over SSH only, not from this machine.',
        fix: 'lockstep lockstep status',
      });
    return { rec, host };
  }

  private markPower(name: string, off: boolean): void {
    const rec = this.record()!;
    rec.hosts[name] = { ...(rec.hosts[name] ?? { fingerprint: '' }), off };
    this.labs.set(rec);
  }

  /**
   * Pulls a host's plug: every process in its namespace is killed (VMs, sshd, agent) and its NICs
   * go down; a kernel host's kernel is killed (its data disk keeps what was written, as a real disk).
   */
  async powerOff(name: string): Promise<LabStatus> {
    const { rec, host } = this.hostOf(name, true);
    this.markPower(name, true);
    if (rec.flavour === 'kernel') {
      const kind = rec.kernel?.kind ?? 'uml';
      const state = kernelStateDir(rec.dir, name, kind);
      await mustLocal(['bash', join(this.deps.nativeDir, kernelHostFiles(kind).scripts, 'stop-host.sh'), '--state-dir', state, '--mode', 'kill'], {
        timeoutMs: 30_000,
      });
      for (const n of host.nics) await runLocal(['ip', '-n', rec.layout.wireNs, 'link', 'set', n.wirePeer, 'down']);
      this.deps.bus.log('warn', 'lab', `${name} powered off: its kernel killed, NICs down`);
      const st = await this.status();
      this.deps.bus.emit({ type: 'lab-changed', status: st });
      return st;
    }
    const pids = (await runLocal(['ip', 'netns', 'pids', host.netns])).stdout.split(/\s+/).filter((p) => /^\d+$/.test(p));
    if (pids.length) await runLocal(['kill', '-9', ...pids]);
    for (const n of host.nics) await runLocal(['ip', '-n', host.netns, 'link', 'set', n.name, 'down']);
    this.deps.bus.log('warn', 'lab', `${name} powered off: ${pids.length} processes killed, NICs down`);
    const st = await this.status();
    this.deps.bus.emit({ type: 'lab-changed', status: st });
    return st;
  }

  /** QEMU processes running in a namespace host, seen from the machine (works while the host is cut off or off). */
  async vmsRunning(name: string): Promise<number> {
    const { host } = this.hostOf(name);
    const pids = (await runLocal(['ip', 'netns', 'pids', host.netns])).stdout.split(/\s+/).filter((p) => /^\d+$/.test(p));
    let n = 0;
    for (const pid of pids) {
      const comm = (await runLocal(['cat', `/proc/${pid}/comm`])).stdout.trim();
      if (comm.startsWith('qemu-system')) n++;
    }
    return n;
  }

  /** Takes one kind of a host's NICs down or up (a pulled cable): the host itself keeps running. */
  async setLinks(name: string, role: 'public' | 'crossover', up: boolean): Promise<string[]> {
    const { rec, host } = this.hostOf(name, true);
    const nics = host.nics.filter((n) => n.role === role);
    // a kernel host's cable is its tap on the machine's side (its own NIC stays up, as with a pulled cable)
    for (const n of nics)
      await mustLocal(
        rec.flavour === 'kernel'
          ? ['ip', '-n', rec.layout.wireNs, 'link', 'set', n.wirePeer, up ? 'up' : 'down']
          : ['ip', '-n', host.netns, 'link', 'set', n.name, up ? 'up' : 'down'],
      );
    this.deps.bus.log('warn', 'lab', `${name}: ${role} link ${up ? 'plugged back' : 'cut'} (${nics.map((n) => n.name).join(', ')})`);
    return nics.map((n) => n.name);
  }

  /**
   * A split between the two hosts (`lab split on`): both cables between them cut — the crossover
   * and the public switch's path from one host to the other — while each still reaches the
   * desktop, the client and the witness (the lab's bridges isolate the hosts' ports from each
   * other, as two ports of a switch's isolated VLAN). `off` heals it.
   */
  async split(on: boolean): Promise<LabStatus> {
    const { rec } = this.hostOf('hostA', true);
    for (const host of rec.layout.hosts)
      for (const n of host.nics)
        if (n.role !== 'decoy') await mustLocal(['bridge', '-n', rec.layout.wireNs, 'link', 'set', 'dev', n.wirePeer, 'isolated', on ? 'on' : 'off']);
    this.deps.bus.log(
      'warn',
      'lab',
      on
        ? 'hostA and hostB split: the crossover and the public path between them are cut; each still reaches the desktop and the client'
        : 'split healed: hostA and hostB see each other again',
    );
    const st = await this.status();
    this.deps.bus.emit({ type: 'lab-changed', status: st });
    return st;
  }

  /** Brings a powered-off host back: NICs up, sshd started again (its disk survived, as a real host's would). */
  async powerOn(name: string): Promise<LabStatus> {
    const { rec, host } = this.hostOf(name, true);
    // namespace host: its NICs up again; a kernel host's taps are made afresh when it boots
    if (rec.flavour === 'namespaces') for (const n of host.nics) await mustLocal(['ip', '-n', host.netns, 'link', 'set', n.name, 'up']);
    this.markPower(name, false);
    // the lab plan probes every step again: only this host's sshd is started
    const plan = await this.deps.runner.run('lab.up', upParams(rec));
    if (plan.state !== 'done') throw new LockstepError(plan.error ?? { code: 'lab-power-on', message: `${name} did not come back.`, host: name });
    this.deps.bus.log('info', 'lab', `${name} powered on`);
    const st = await this.status();
    this.deps.bus.emit({ type: 'lab-changed', status: st });
    return st;
  }

  async down(): Promise<LabStatus> {
    const params: LabDownParams = { prefix: this.prefix, dir: this.dir };
    const plan = await this.deps.runner.run('lab.down', params);
    if (plan.state !== 'done')
      throw new LockstepError(plan.error ?? { code: 'lab-down-failed', message: 'The lab was not removed completely.', fix: 'lockstep lab down' });
    const st = await this.status();
    this.deps.bus.emit({ type: 'lab-changed', status: st });
    return st;
  }
}
