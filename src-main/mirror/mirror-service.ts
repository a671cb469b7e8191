import type { EventBus } from '../events/event-bus.js';
import { LockstepError, type HostDTO, type Level } from '../contract/index.js';
import type { MirrorSideDTO, MirrorStatusDTO } from '../contract/link.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { Side } from '../hosts/command.js';
import type { LinkService } from '../link/link-service.js';
import { bothSides, HostPair, other, pollUntil, SECTION, err } from '../hosts/pair-exec.js';

import type { Store } from '../store/store.js';
import type { TaskRunner } from '../tasks/runner.js';
import { RecordRepo } from '../store/record-repo.js';
import { drbdAvailability, MIRROR_SKIP_KEY, mirrorSkipSchema, unavailableStatus, type MirrorSkip, type StoredPreflight } from './availability.js';
import { parseWipe } from './disk-check.js';
import * as drbd from './drbd-commands.js';
import { kernelLogShowsSplitBrain, parseEvents2, parseProcDrbd } from './parse.js';

import type { MirrorStatus } from './status.js';
import {
  MIRROR_KEY,
  mirrorStoredSchema,
  DEFAULT_LINK_MIBPS,
  type MirrorStored,
  type MirrorContext,
  type MirrorSetupParams,
  type View,
  type Configured,
  configured,
} from './mirror-record.js';
import { setupKind } from './setup-steps.js';
import { configStep } from './config-step.js';
import { verifyKind, resolveKind } from './verify-steps.js';

export interface MirrorDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  link: LinkService;
  /** the last preflight report, asked of the preflight service (the core hands this in) */
  lastPreflight: () => StoredPreflight | null;
}

/** The DRBD mirror over the link (wires src-main/mirror/* to SSH). */
export class MirrorService implements MirrorContext {
  /** the mirror's records: owned here, validated on every read */
  private readonly mirrors: RecordRepo<MirrorStored>;
  private readonly skips: RecordRepo<MirrorSkip>;

  constructor(readonly deps: MirrorDeps) {
    this.mirrors = new RecordRepo(deps.store.kv, MIRROR_KEY, mirrorStoredSchema, { redo: 'lockstep mirror setup' });
    this.skips = new RecordRepo(deps.store.kv, MIRROR_SKIP_KEY, mirrorSkipSchema, { redo: 'lockstep mirror skip', overwrites: true });
    deps.runner.register(setupKind(this));
    deps.runner.register(verifyKind(this));
    deps.runner.register(resolveKind(this));
  }

  stored(): MirrorStored | undefined {
    return this.mirrors.get();
  }

  log(level: Level, message: string, extra?: { host?: string; data?: Record<string, unknown> }): void {
    this.deps.bus.log(level, 'mirror', message, extra);
  }

  async isLabHost(h: Pick<HostDTO, 'address' | 'port'>): Promise<boolean> {
    return (await this.deps.hosts.labFlavourOf(h)) !== undefined;
  }

  /** A DRBD mirror is configured on the pair (what the link asks before it is removed). */
  configured(): boolean {
    return this.stored() !== undefined;
  }

  save(rec: MirrorStored): void {
    this.mirrors.set(rec);
  }

  patch(f: (r: MirrorStored) => void): MirrorStored {
    const r = this.stored()!;
    f(r);
    this.save(r);
    return r;
  }

  // ── commands ────────────────────────────────────────────────────────────────────────

  async setup(i: { diskA?: string; diskB?: string; wipe: string[]; blank: boolean }): Promise<MirrorStatusDTO> {
    const link = this.deps.link.stored();
    if (!link)
      throw err('mirror-no-link', 'There is no replication link to mirror over.', { fix: 'lockstep link setup HOST_A HOST_B   (then lockstep mirror setup)' });
    const rec = this.stored();
    if (rec && (rec.hosts.A !== link.hosts.A || rec.hosts.B !== link.hosts.B))
      throw err('mirror-other-hosts', `A mirror already exists between ${rec.names.A} and ${rec.names.B}, not the hosts of the link.`, {
        fix: `Set the link up between ${rec.names.A} and ${rec.names.B} again, or take that mirror down first (drbdadm down ${rec.resource} on both).`,
      });
    const pair = new HostPair(this.deps.hosts, link.hosts);
    // DRBD binds to the link addresses: a host that rebooted without persistence lost them
    const linkNow = await this.deps.link.status();
    if (linkNow.state !== 'up')
      throw err('mirror-link-down', `The replication link is not up: ${linkNow.state === 'broken' ? linkNow.why : 'there is none'}`, {
        fix: linkNow.state === 'broken' ? linkNow.fix : `lockstep link setup ${pair.names.A} ${pair.names.B}`,
      });
    for (const t of i.wipe) {
      const w = parseWipe(t);
      if (!w || pair.sideOf(w.host) === null)
        throw err('bad-request', `--wipe ${t} does not name one of the mirror's hosts (${pair.names.A}, ${pair.names.B}) and a device.`, {
          fix: `Write it as HOST:/dev/X, e.g. --wipe ${pair.names.A}:/dev/vdb`,
        });
    }
    const measured = link.status.measured?.mibPerSec ?? null;
    if (measured === null && !rec)
      this.deps.bus.log('warn', 'mirror', `The link throughput was not measured: sizing the resync rate for ${DEFAULT_LINK_MIBPS} MiB/s.`);
    const params: MirrorSetupParams = {
      a: link.hosts.A,
      b: link.hosts.B,
      addresses: { A: link.record.ends[0].address.split('/')[0]!, B: link.record.ends[1].address.split('/')[0]! },
      // a rerun keeps the rate it configured, so the config file stays as it is
      linkMiBps: rec?.linkMiBps ?? measured ?? DEFAULT_LINK_MIBPS,
      ...(i.diskA ? { diskA: i.diskA } : {}),
      ...(i.diskB ? { diskB: i.diskB } : {}),
      wipe: i.wipe,
      blank: i.blank,
    };
    const plan = await this.deps.runner.resumeOrRun('mirror.setup', params);
    if (plan.state !== 'done') throw new LockstepError(plan.error ?? { code: 'mirror-setup-failed', message: 'The mirror setup did not finish.' });
    return this.status();
  }

  async status(): Promise<MirrorStatusDTO> {
    const rec = this.stored();
    if (!rec) return this.noMirror();
    const pair = new HostPair(this.deps.hosts, rec.hosts);
    const views = await bothSides((side) => this.observe(pair, rec, side, { log: true }));
    return this.toDTO(rec, pair, views[0]!, views[1]!);
  }

  async verify(): Promise<MirrorStatusDTO> {
    const rec = this.requireMirror();
    const plan = await this.deps.runner.run('mirror.verify', { hosts: rec.hosts });
    if (plan.state !== 'done') throw new LockstepError(plan.error ?? { code: 'mirror-verify-failed', message: 'The online verify did not finish.' });
    return this.withVerify(await this.status());
  }

  /** Make this host the primary; the other becomes secondary (or, when it is dead, is left alone). */
  async switchPrimary(primary: string): Promise<MirrorStatusDTO> {
    const rec = this.requireMirror();
    const pair = new HostPair(this.deps.hosts, rec.hosts);
    const target = this.sideOf(pair, primary);
    const peer = other(target);
    const name = pair.name(target);
    if (!(await pair.reachable(target)))
      throw err('host-unreachable', `${name} does not answer SSH, so it cannot be made primary.`, {
        fix: `Power ${name} on, or make ${pair.name(peer)} primary.`,
        host: pair.hosts[target].hostId,
      });
    let t = await this.observe(pair, rec, target);
    if (!configured(t.status))
      throw err('mirror-not-up', `The mirror is not up on ${name}.`, {
        fix: 'lockstep mirror setup   (brings a returning host back into the mirror)',
        host: pair.hosts[target].hostId,
      });
    const peerAlive = await pair.reachable(peer);
    const p = peerAlive ? await this.observe(pair, rec, peer) : null;
    const peerPrimary = configured(p?.status ?? null) && (p!.status as Configured).role === 'Primary';
    if (t.status.role === 'Primary' && !peerPrimary) return this.status();
    if (t.status.disk !== 'UpToDate')
      throw err('mirror-not-uptodate', `${name}'s copy is ${t.status.disk}, not UpToDate: making it primary would serve stale or partial data.`, {
        fix: `Wait for the sync to finish (lockstep mirror status), or make the host with the UpToDate copy primary.`,
        host: pair.hosts[target].hostId,
      });
    if (peerPrimary) {
      const r = await pair.exec(peer, drbd.secondary(rec.resource));
      if (r.code !== 0)
        throw pair.failure(peer, drbd.secondary(rec.resource), r, {
          code: 'mirror-in-use',
          why: `${pair.name(peer)} cannot give up the primary role (is ${rec.device} mounted or open there?)`,
          fix: `On ${pair.name(peer)}: stop what uses ${rec.device} (umount it, stop the guest), then: lockstep mirror switch ${name}`,
        });
    } else if (!peerAlive && (t.status.cstate === 'Connected' || t.status.peerRole === 'Primary')) {
      // the peer died a moment ago: DRBD notices after ping-int (+ timeout); promotion is refused until then
      const gone = await pollUntil(
        async () => {
          t = await this.observe(pair, rec, target);
          return configured(t.status) && t.status.state !== 'connected' && t.status.state !== 'syncing' ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      if (!gone)
        throw err('mirror-peer-still-connected', `${name} still sees ${pair.name(peer)} as connected.`, {
          fix: `Wait a few seconds and run: lockstep mirror switch ${name}`,
        });
    }
    const started = Date.now();
    const promoted = await pollUntil(
      async () => {
        const r = await pair.exec(target, drbd.primary(rec.resource));
        return r.code === 0 ? r : Date.now() - started > 15_000 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    if (!promoted || promoted.code !== 0)
      throw pair.failure(target, drbd.primary(rec.resource), promoted ?? { code: -1, stdout: '', stderr: 'timed out' }, {
        code: 'mirror-promote-failed',
        why: `${name} could not become primary`,
        fix: `lockstep mirror status (is the other host still primary?), then: lockstep mirror switch ${name}`,
      });
    this.patch((r) => (r.primary = target));
    this.deps.bus.log(
      'info',
      'mirror',
      `${name} is now the DRBD primary of ${rec.resource}${peerAlive ? '' : ` (${pair.name(peer)} is unreachable)`} after ${((Date.now() - started) / 1000).toFixed(1)} s`,
      {
        host: pair.hosts[target].hostId,
      },
    );
    return this.status();
  }

  async resolve(survivor: string): Promise<MirrorStatusDTO> {
    const rec = this.requireMirror();
    const pair = new HostPair(this.deps.hosts, rec.hosts);
    const side = this.sideOf(pair, survivor);
    const plan = await this.deps.runner.run('mirror.resolve', { hosts: rec.hosts, survivor: side });
    if (plan.state !== 'done') throw new LockstepError(plan.error ?? { code: 'mirror-resolve-failed', message: 'The split brain was not resolved.' });
    return this.withVerify(await this.status());
  }

  /** Without a mirror: 'unavailable' (with the preflight's reason) when the link's hosts cannot run DRBD, else 'none'. No SSH. */
  private noMirror(): MirrorStatusDTO {
    const link = this.deps.link.stored();
    if (!link) return { state: 'none' };
    const a = drbdAvailability(this.deps.lastPreflight() ?? undefined, [link.hosts.A, link.hosts.B]);
    return a.state === 'unavailable' ? unavailableStatus(a, this.skips.get()) : { state: 'none' };
  }

  /** A pair without DRBD: record that the user goes on without a mirror (Protect then copies the guest's disk in full). */
  async skip(): Promise<MirrorStatusDTO> {
    if (this.stored()) throw err('mirror-exists', 'This pair already has a DRBD mirror: there is nothing to skip.', { fix: 'lockstep mirror status' });
    const link = this.deps.link.stored();
    if (!link) throw err('mirror-no-link', 'There is no replication link yet.', { fix: 'lockstep link setup HOST_A HOST_B' });
    const hosts = [link.hosts.A, link.hosts.B];
    const names = `${link.names.A} ${link.names.B}`;
    const a = drbdAvailability(this.deps.lastPreflight() ?? undefined, hosts);
    if (a.state === 'unknown') throw err('mirror-unchecked', `${a.why} Whether they have DRBD is not known.`, { fix: `lockstep preflight run ${names}` });
    if (a.state === 'available')
      throw err('mirror-available', 'Both hosts can run DRBD: mirror the disks rather than copying them in full.', { fix: 'lockstep mirror setup' });
    const skip: MirrorSkip = { hosts, at: Date.now() };
    this.skips.set(skip);
    this.deps.bus.log('info', 'mirror', `No DRBD on ${link.names.A} + ${link.names.B} (${a.why}): Protect will make a full copy of the guest's disk.`);
    return this.status();
  }

  /**
   * The cluster (Mirror tier) takes the resource over, or gives it back: DRBD's resource-level
   * fencing (fencing resource-only + crm-fence-peer handlers) written into the resource file on
   * both hosts and adjusted into the running resource (the config step, probe → apply → verify).
   */
  async setClusterFencing(on: boolean): Promise<void> {
    const rec = this.requireMirror();
    if ((rec.clusterFencing === true) !== on) this.patch((r) => (r.clusterFencing = on));
    const step = configStep(this);
    const ctx = {
      planId: 'cluster-fencing',
      params: { a: rec.hosts.A, b: rec.hosts.B } as MirrorSetupParams,
      signal: new AbortController().signal,
      progress: () => {},
      log: (message: string) => this.log('info', message),
    };
    if (await step.probe(ctx)) return;
    await step.apply(ctx);
    await step.verify(ctx);
    this.log('info', `DRBD ${rec.resource}: cluster fencing ${on ? 'on (fencing resource-only, crm-fence-peer)' : 'off'}`);
  }

  // ── observation ─────────────────────────────────────────────────────────────────────

  requireMirror(): MirrorStored {
    const rec = this.stored();
    if (!rec) throw err('mirror-none', 'There is no mirror.', { fix: 'lockstep mirror setup' });
    return rec;
  }

  private sideOf(pair: HostPair, ref: string): Side {
    const side = pair.sideOf(ref);
    if (side === null)
      throw err('bad-request', `${ref} is not one of the mirror's hosts (${pair.names.A}, ${pair.names.B}).`, {
        fix: `Name ${pair.names.A} or ${pair.names.B}.`,
      });
    return side;
  }

  /** One host's state of the resource (and, with `log`, its kernel log lines about DRBD). */
  async observe(
    pair: HostPair,
    rec: MirrorStored,
    side: Side,
    o: { log?: boolean; assumeReachable?: boolean; reachableWithinMs?: number } = {},
  ): Promise<View> {
    if (!o.assumeReachable && !(await pair.reachable(side, o.reachableWithinMs))) return { side, status: null, log: '' };
    const nine = rec.flavour === '9';
    const state = nine ? `/usr/bin/env drbdsetup events2 --now --statistics ${rec.resource} 2>/dev/null` : 'cat /proc/drbd 2>/dev/null';
    // constant script: the resource name is a constant of this module
    const script = `${state}; echo ${SECTION}; ${o.log ? 'dmesg 2>/dev/null | grep -a drbd | tail -n 400' : 'true'}`;
    const r = await pair.exec(side, ['sh', '-c', script]);
    const [text = '', log = ''] = r.stdout.split(`${SECTION}\n`);
    const splitBrain = o.log ? kernelLogShowsSplitBrain(log, { resource: rec.resource, minor: rec.minor }) : false;
    const status = nine
      ? parseEvents2(text, { resource: rec.resource, splitBrain })
      : text.trim() === ''
        ? ({ state: 'unconfigured', resource: rec.resource, minor: rec.minor } as const)
        : parseProcDrbd(text, { minor: rec.minor, resource: rec.resource, splitBrain });
    return { side, status, log };
  }

  private toDTO(rec: MirrorStored, pair: HostPair, a: View, b: View): MirrorStatusDTO {
    const side = (v: View): MirrorSideDTO => {
      const own = v.status;
      const base = { host: pair.hosts[v.side].hostId, name: pair.name(v.side), disk: rec.disks[v.side] };
      if (configured(own)) return { ...base, role: own.role, diskState: own.disk };
      // its sshd does not answer: whatever the peer still believes (DRBD notices after ping-int), it is gone
      if (own === null) return { ...base, role: 'unreachable', diskState: 'DUnknown' };
      return { ...base, role: 'down', diskState: 'Unconfigured' };
    };
    const states = [a.status, b.status];
    const split = states.some((s) => s?.state === 'split-brain');
    const busy = states.find((s): s is Extract<MirrorStatus, { state: 'syncing' | 'verifying' }> => s?.state === 'syncing' || s?.state === 'verifying');
    const main = busy ?? (configured(a.status) ? a.status : configured(b.status) ? b.status : null);
    const oos = (s: MirrorStatus | null) => (configured(s) ? s.outOfSyncKiB : null);
    const dto: MirrorStatusDTO = {
      state: split && !rec.underPair?.split ? 'split-brain' : main ? main.state : 'unconfigured',
      resource: rec.resource,
      device: rec.device,
      a: side(a),
      b: side(b),
      percent: busy?.percent ?? null,
      rateKiBps: busy?.rateKiBps ?? null,
      etaSeconds: busy?.etaSeconds ?? null,
      outOfSyncKiB: main ? oos(main) : null,
    };
    const apart = rec.underPair?.split === true && states.every((s) => s === null || s.state === 'standalone' || s.state === 'unconfigured');
    if (split && !apart) dto.splitBrain = { aOutOfSyncKiB: oos(a.status), bOutOfSyncKiB: oos(b.status) };
    if (apart) dto.underPair = 'split-in-lockstep';
    return dto;
  }

  private withVerify(dto: MirrorStatusDTO): MirrorStatusDTO {
    const v = this.stored()?.lastVerify;
    return v && dto.state !== 'none' && dto.state !== 'unavailable' && dto.outOfSyncKiB === null ? { ...dto, outOfSyncKiB: v.outOfSyncKiB } : dto;
  }

  // ── mirror.setup ────────────────────────────────────────────────────────────────────

  pair(p: { a: string; b: string } | { hosts: Record<Side, string> }): HostPair {
    return new HostPair(this.deps.hosts, 'hosts' in p ? p.hosts : { A: p.a, B: p.b });
  }
}
