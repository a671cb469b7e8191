import type { EventBus } from '../app/event-bus.js';
import { LockstepError, type ProgressDTO } from '../contract/index.js';
import type { MirrorSideDTO, MirrorStatusDTO } from '../contract/link.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { Side } from '../link/command.js';
import type { LinkService } from '../link/link-service.js';
import { bothSides, HostPair, other, pollUntil, readFileExact, SIDES } from '../link/remote.js';
import { candidateDisks } from '../preflight/findings.js';
import { GATHER_SCRIPT } from '../preflight/gather-script.js';
import { parseGatherOutput } from '../preflight/parse.js';
import type { Store } from '../store/store.js';
import { sleep } from '../tasks/cancel.js';
import type { TaskRunner } from '../tasks/runner.js';
import type { PlanKind, Step, StepContext } from '../tasks/step.js';
import { diskCheckArgv, diskProblems, diskRefusal, parseDiskCheck, parseWipe, wipeConfirmed, type DiskUse } from './disk-check.js';
import * as drbd from './drbd-commands.js';
import { lastResync, type ResyncFigures } from './kernel-log.js';
import { kernelLogShowsSplitBrain, parseEvents2, parseProcDrbd, parseProcDrbdVersion } from './parse.js';
import { renderResource, resyncRateFor } from './res-config.js';
import { isInSync, type DrbdFlavour, type MirrorStatus } from './status.js';

export interface MirrorDeps {
  store: Store;
  bus: EventBus;
  runner: TaskRunner;
  hosts: HostsService;
  link: LinkService;
}

const MIRROR_KEY = 'mirror';
const RESOURCE = 'r0';
const MINOR = 0;
const PORT = 7789;
const KiB = 1024;
const MiB = 1024 * 1024;
/** separates the sections of one batched read */
const SECTION = '@@lockstep-section@@';
/** Without a measured link, size the resync rate for gigabit Ethernet. */
const DEFAULT_LINK_MIBPS = 110;

/** What store.kv('mirror') holds: the resource, which disks it owns, and the figures of its syncs. */
export interface MirrorStored {
  version: 1;
  resource: string;
  minor: number;
  device: string;
  port: number;
  /** host identities (address:port) */
  hosts: Record<Side, string>;
  names: Record<Side, string>;
  /** `uname -n` of each host: the `on` sections */
  unames: Partial<Record<Side, string>>;
  /** replication addresses on the link */
  addresses: Record<Side, string>;
  disks: Record<Side, string>;
  /** the user confirmed overwriting these (`--wipe HOST:/dev/X`) */
  wiped: Side[];
  /** DRBD metadata on these disks was written by this app (so a rerun does not refuse its own disk) */
  initialized: Side[];
  flavour: DrbdFlavour | null;
  linkMiBps: number;
  resyncRateKiB: number;
  complete: boolean;
  primary: Side | null;
  sizeKiB?: number;
  initialSync?: { mode: 'full' | 'blank'; kib: number; seconds: number; mibPerSec: number | null; at: number };
  lastResync?: ResyncFigures & { seconds: number; at: number };
  /** resyncs begun per host (kernel log) when this app last brought the resource up: a higher count = a new resync */
  resyncMark?: Record<Side, number>;
  lastVerify?: { outOfSyncKiB: number; seconds: number; at: number };
}

export interface MirrorSetupParams {
  a: string;
  b: string;
  addresses: Record<Side, string>;
  linkMiBps: number;
  diskA?: string;
  diskB?: string;
  wipe: string[];
  blank: boolean;
}

/** One host's view of the resource. null status = host unreachable. */
interface View {
  side: Side;
  status: MirrorStatus | null;
  log: string;
}

type Configured = Exclude<MirrorStatus, { state: 'unconfigured' }>;

const configured = (s: MirrorStatus | null): s is Configured => s !== null && s.state !== 'unconfigured';

function err(code: string, message: string, o: { fix?: string; cause?: string; host?: string; step?: string } = {}): LockstepError {
  return new LockstepError({ code, message, ...o });
}

const fmtMiB = (kibps: number) => `${(kibps / 1024).toFixed(1)} MiB/s`;

/** The DRBD mirror over the link (wires src-main/mirror/* to SSH). */
export class MirrorService {
  constructor(readonly deps: MirrorDeps) {
    deps.runner.register(this.setupKind());
    deps.runner.register(this.verifyKind());
    deps.runner.register(this.resolveKind());
  }

  stored(): MirrorStored | undefined {
    return this.deps.store.kv.get<MirrorStored>(MIRROR_KEY);
  }

  private save(rec: MirrorStored): void {
    this.deps.store.kv.set(MIRROR_KEY, rec);
  }

  private patch(f: (r: MirrorStored) => void): MirrorStored {
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
    const plan = await this.deps.runner.run('mirror.setup', params);
    if (plan.state !== 'done') throw new LockstepError(plan.error ?? { code: 'mirror-setup-failed', message: 'The mirror setup did not finish.' });
    return this.status();
  }

  async status(): Promise<MirrorStatusDTO> {
    const rec = this.stored();
    if (!rec) return { state: 'none' };
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

  // ── observation ─────────────────────────────────────────────────────────────────────

  private requireMirror(): MirrorStored {
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
  private async observe(pair: HostPair, rec: MirrorStored, side: Side, o: { log?: boolean; assumeReachable?: boolean } = {}): Promise<View> {
    if (!o.assumeReachable && !(await pair.reachable(side))) return { side, status: null, log: '' };
    const nine = rec.flavour === '9';
    const state = nine ? `drbdsetup events2 --now --statistics ${rec.resource} 2>/dev/null` : 'cat /proc/drbd 2>/dev/null';
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
      state: split ? 'split-brain' : main ? main.state : 'unconfigured',
      resource: rec.resource,
      device: rec.device,
      a: side(a),
      b: side(b),
      percent: busy?.percent ?? null,
      rateKiBps: busy?.rateKiBps ?? null,
      etaSeconds: busy?.etaSeconds ?? null,
      outOfSyncKiB: main ? oos(main) : null,
    };
    if (split) dto.splitBrain = { aOutOfSyncKiB: oos(a.status), bOutOfSyncKiB: oos(b.status) };
    return dto;
  }

  private withVerify(dto: MirrorStatusDTO): MirrorStatusDTO {
    const v = this.stored()?.lastVerify;
    return v && dto.state !== 'none' && dto.outOfSyncKiB === null ? { ...dto, outOfSyncKiB: v.outOfSyncKiB } : dto;
  }

  // ── waiting for a sync, with progress ───────────────────────────────────────────────

  /**
   * Polls the source side's /proc/drbd every 0.5 s until both disks are UpToDate, reporting
   * percent, rate and ETA through ctx.progress (and the event log about once a second).
   */
  private async watchSync(
    ctx: StepContext<unknown>,
    pair: HostPair,
    rec: MirrorStored,
    what: string,
    budgetMs: number,
  ): Promise<{ seconds: number; totalKiB: number | null }> {
    const started = Date.now();
    let lastLog = 0;
    let totalKiB: number | null = null;
    let watch: Side = 'A';
    for (;;) {
      if (ctx.signal.aborted)
        throw err('cancelled', 'Cancelled by the user.', { fix: 'Run the same command again: the sync goes on by itself and is watched again.' });
      const views = await bothSides((s) => this.observe(pair, rec, s, { assumeReachable: true }));
      const v = views.find((x) => x.side === watch)!;
      const s = v.status;
      if (views.every((x) => x.status && isInSync(x.status))) {
        ctx.progress({ fraction: 1, message: `${what}: done, UpToDate/UpToDate` });
        return { seconds: (Date.now() - started) / 1000, totalKiB };
      }
      if (s?.state === 'syncing') {
        if (s.direction === 'target') {
          watch = other(watch); // figures are the same on both sides; follow the source
        }
        totalKiB = s.totalKiB ?? totalKiB;
        const fraction = s.percent !== null ? Math.min(0.999, s.percent / 100) : null;
        const p: ProgressDTO = {
          fraction,
          message: `${what}: ${s.percent ?? '?'}%${s.rateKiBps !== null ? ` at ${fmtMiB(s.rateKiBps)}` : ''}${s.etaSeconds !== null ? `, ${s.etaSeconds} s left` : ''}${s.paused ? ' (paused)' : ''}`,
          ...(s.rateKiBps !== null ? { rate: s.rateKiBps * KiB, rateUnit: 'B/s' } : {}),
          ...(s.etaSeconds !== null ? { etaSeconds: s.etaSeconds } : {}),
        };
        ctx.progress(p);
        if (Date.now() - lastLog >= 1000) {
          lastLog = Date.now();
          this.deps.bus.log('info', 'mirror', p.message, {
            data: { planId: ctx.planId, fraction, rateKiBps: s.rateKiBps, etaSeconds: s.etaSeconds, remainingKiB: s.remainingKiB, totalKiB: s.totalKiB },
          });
        }
      } else if (views.some((x) => x.status?.state === 'split-brain' || x.status?.state === 'standalone')) {
        throw err(
          'mirror-disconnected',
          `${what} stopped: the hosts are no longer connected (${views.map((x) => `${pair.name(x.side)} ${x.status?.state}`).join(', ')}).`,
          {
            fix: 'lockstep mirror status; a split brain is resolved with lockstep mirror resolve SURVIVOR',
            step: 'mirror-sync',
          },
        );
      }
      if (Date.now() - started > budgetMs)
        throw err('mirror-sync-slow', `${what} did not finish within ${Math.round(budgetMs / 1000)} s.`, {
          fix: 'It goes on in the background: watch it with lockstep mirror status, then run lockstep mirror setup again.',
          step: 'mirror-sync',
        });
      await sleep(500, ctx.signal);
    }
  }

  /** How many resyncs each host's kernel log shows as begun (to tell the next one from old ones). */
  private async resyncCounts(pair: HostPair): Promise<Record<Side, number>> {
    const [a, b] = await bothSides(async (side) => Number((await pair.check(side, ['sh', '-c', 'dmesg | grep -ac "Began resync as" || true'])).trim()) || 0);
    return { A: a, B: b };
  }

  /** Remember where the kernel logs are, before something that may start a resync. */
  private async markResync(pair: HostPair): Promise<void> {
    const mark = await this.resyncCounts(pair);
    this.patch((r) => (r.resyncMark = mark));
  }

  /**
   * After a resync: how much it copied and where the blocks came from (the survivor's bitmap =
   * written while apart; the returning host's = its activity log after a crash), from the kernel
   * logs. Only a resync begun after `markResync` counts. Returns the figures, or null.
   */
  private async recordResync(
    pair: HostPair,
    rec: MirrorStored,
    what: string,
    fallbackSeconds: number | null,
  ): Promise<(ResyncFigures & { seconds: number }) | null> {
    const mark = this.stored()?.resyncMark;
    if (!mark) return null;
    const now = await this.resyncCounts(pair);
    this.patch((r) => delete r.resyncMark);
    if (now.A <= mark.A && now.B <= mark.B) return null;
    const views = await bothSides((s) => this.observe(pair, rec, s, { log: true, assumeReachable: true }));
    const figs = views.map((v) => lastResync(v.log, rec.minor));
    // the target's view knows its own bitmap (AL) and the source's; either has the union
    const f = figs.find((x) => x !== null && !/S(ource)?$/.test(x.as)) ?? figs.find((x) => x !== null);
    if (!f) return null;
    const seconds =
      f.beganAt !== null && f.doneAt !== null && f.doneAt >= f.beganAt ? Math.max(0.01, f.doneAt - f.beganAt) : (fallbackSeconds ?? f.doneSeconds ?? 0);
    const out = { ...f, seconds };
    this.patch((r) => (r.lastResync = { ...out, at: Date.now() }));
    this.deps.bus.log(
      'info',
      'mirror',
      `${what} of ${rec.resource}: ${f.resyncKiB} KiB resynced in ${seconds.toFixed(2)} s (source's bitmap ${f.sourceBitmapKiB ?? '?'} KiB = changed while apart; target's own ${f.targetBitmapKiB ?? '?'} KiB = its activity-log extents or its own changes${f.alMarkedKiB ? `; ${f.alMarkedKiB} KiB marked from the AL at attach` : ''})`,
      {
        data: {
          resyncKiB: f.resyncKiB,
          sourceBitmapKiB: f.sourceBitmapKiB,
          targetBitmapKiB: f.targetBitmapKiB,
          alMarkedKiB: f.alMarkedKiB,
          seconds,
          drbdKiBps: f.doneKiBps,
        },
      },
    );
    return out;
  }

  // ── mirror.setup ────────────────────────────────────────────────────────────────────

  private pair(p: { a: string; b: string } | { hosts: Record<Side, string> }): HostPair {
    return new HostPair(this.deps.hosts, 'hosts' in p ? p.hosts : { A: p.a, B: p.b });
  }

  private setupKind(): PlanKind<MirrorSetupParams> {
    return {
      kind: 'mirror.setup',
      title: (p) => `Mirror a disk of ${p.a} and ${p.b} with DRBD${p.blank ? ' (blank disks: no full copy)' : ''}`,
      steps: () => [this.disksStep(), this.moduleStep(), this.configStep(), this.metadataStep(), this.upStep(), this.syncStep(), this.recordStep()],
    };
  }

  /** The preflight's candidates on one host (one gather round trip): unused, unmounted, no signature. */
  private async chooseDisk(pair: HostPair, side: Side): Promise<string> {
    const r = await pair.exec(side, ['sh', '-s'], { stdin: GATHER_SCRIPT, timeoutMs: 90_000 });
    const facts = parseGatherOutput(r.stdout);
    const found = candidateDisks(facts, 16 * MiB);
    const flag = side === 'A' ? '--disk-a' : '--disk-b';
    if (!found.length) {
      const seen = facts.disks.filter((d) => d.type === 'disk' || d.type === 'part' || d.type === 'loop');
      throw err('mirror-no-disk', `${pair.name(side)} has no free disk for the mirror (unmounted, unused, no file system or partition table).`, {
        cause: seen
          .map(
            (d) =>
              `${d.path}: ${[d.mounted ? `mounted on ${d.mountpoints.join(',')}` : '', d.fstype ?? '', d.pttype ? `${d.pttype} partitions` : '', d.onRootDisk ? 'holds /' : ''].filter(Boolean).join(', ') || 'free'}`,
          )
          .join('; '),
        fix: `Add an empty disk to ${pair.name(side)}, or name one whose data may be destroyed: lockstep mirror setup ${flag} /dev/X --wipe ${pair.name(side)}:/dev/X`,
        host: pair.hosts[side].hostId,
        step: 'mirror-disks',
      });
    }
    return found[0]!.path;
  }

  /** 1. Choose and check the backing disks. Read-only; refuses anything in use before anything changes. */
  private disksStep(): Step<MirrorSetupParams> {
    return {
      id: 'mirror-disks',
      title: 'Choose the backing disk on each host (refuse disks in use or holding data)',
      probe: async () => false,
      apply: async (ctx) => {
        const p = ctx.params;
        const pair = this.pair(p);
        const prev = this.stored();
        const mine = prev && prev.hosts.A === p.a && prev.hosts.B === p.b ? prev : undefined;
        const chosen = await bothSides(async (side) => {
          const named = side === 'A' ? p.diskA : p.diskB;
          const disk = named ?? mine?.disks[side] ?? (await this.chooseDisk(pair, side));
          const use: DiskUse = parseDiskCheck(disk, await pair.check(side, diskCheckArgv(disk), { step: 'mirror-disks' }));
          const ours = !!mine && mine.disks[side] === disk && mine.initialized.includes(side);
          return { side, disk, use, ours, problems: diskProblems(use, { ours, minor: MINOR }) };
        });
        const wiped: Side[] = [];
        for (const c of chosen) {
          if (!c.problems.length) continue;
          const h = pair.hosts[c.side];
          if (c.problems.every((x) => x.wipeable) && wipeConfirmed(p.wipe, h, c.disk)) {
            wiped.push(c.side);
            continue;
          }
          const otherArg = c.side === 'A' ? (p.diskB ? `--disk-b ${p.diskB}` : '') : p.diskA ? `--disk-a ${p.diskA}` : '';
          throw diskRefusal(h, c.disk, c.problems, { flag: c.side === 'A' ? '--disk-a' : '--disk-b', otherArgs: otherArg || undefined });
        }
        const disks = { A: chosen[0]!.disk, B: chosen[1]!.disk };
        const sizes = chosen.map((c) => c.use.sizeBytes ?? 0);
        const rate = resyncRateFor(p.linkMiBps);
        const rec: MirrorStored = {
          version: 1,
          resource: RESOURCE,
          minor: MINOR,
          device: `/dev/drbd${MINOR}`,
          port: PORT,
          hosts: { A: p.a, B: p.b },
          names: pair.names,
          unames: mine?.unames ?? {},
          addresses: p.addresses,
          disks,
          wiped,
          // a different disk than before: its metadata is not ours
          initialized: (mine?.initialized ?? []).filter((s) => mine!.disks[s] === disks[s]),
          flavour: mine?.flavour ?? null,
          linkMiBps: p.linkMiBps,
          resyncRateKiB: rate.kiBps,
          complete: mine?.complete ?? false,
          primary: mine?.primary ?? null,
          sizeKiB: Math.min(...sizes) / KiB,
          ...(mine?.initialSync ? { initialSync: mine.initialSync } : {}),
          ...(mine?.lastResync ? { lastResync: mine.lastResync } : {}),
          ...(mine?.lastVerify ? { lastVerify: mine.lastVerify } : {}),
        };
        this.save(rec);
        ctx.log(
          `Backing disks: ${pair.name('A')} ${disks.A} (${(sizes[0]! / MiB).toFixed(0)} MiB), ${pair.name('B')} ${disks.B} (${(sizes[1]! / MiB).toFixed(0)} MiB)${wiped.length ? `; confirmed to overwrite: ${wiped.map((s) => `${pair.name(s)}:${disks[s]}`).join(', ')}` : ''}`,
        );
        if (sizes[0] !== sizes[1]) ctx.log(`The disks differ in size: the mirror uses the smaller (${(Math.min(...sizes) / MiB).toFixed(0)} MiB).`, 'warn');
      },
      verify: async () => {
        const r = this.stored();
        if (!r?.disks.A || !r.disks.B)
          throw err('mirror-disks', 'No backing disks were chosen.', { fix: 'lockstep mirror setup --disk-a /dev/X --disk-b /dev/Y', step: 'mirror-disks' });
      },
    };
  }

  /** 2. `modprobe drbd` on both: drbd-utils picks 8.4 or 9 tools from /proc/drbd, so this comes first. */
  private moduleStep(): Step<MirrorSetupParams> {
    const read = async (pair: HostPair, side: Side) => {
      const proc = await pair.exec(side, drbd.readProcDrbd());
      const uname = await pair.check(side, ['uname', '-n'], { step: 'mirror-module' });
      return { version: proc.code === 0 ? parseProcDrbdVersion(proc.stdout) : null, uname: uname.trim() };
    };
    const remember = async (ctx: StepContext<MirrorSetupParams>, must: boolean): Promise<boolean> => {
      const pair = this.pair(ctx.params);
      const got = await bothSides((s) => read(pair, s));
      if (got.some((g) => g.version === null)) {
        if (!must) return false;
        const side = got[0]!.version === null ? 'A' : 'B';
        throw err('mirror-no-drbd', `DRBD did not load on ${pair.name(side)}.`, {
          fix: `On ${pair.name(side)}: apt-get install -y drbd-utils, and boot a kernel that carries drbd.ko (Debian's linux-image-amd64 does), then: lockstep mirror setup`,
          host: pair.hosts[side].hostId,
          step: 'mirror-module',
        });
      }
      const [a, b] = got as [(typeof got)[0], (typeof got)[0]];
      if (a.version!.flavour !== b.version!.flavour)
        throw err(
          'mirror-drbd-mismatch',
          `${pair.name('A')} runs DRBD ${a.version!.version}, ${pair.name('B')} DRBD ${b.version!.version}: a mirror needs the same major version.`,
          {
            fix: 'Boot both hosts with the same DRBD (the same kernel, or DRBD 9 on both).',
            step: 'mirror-module',
          },
        );
      if (a.uname === b.uname)
        throw err('mirror-same-name', `Both hosts call themselves ${a.uname} (uname -n): DRBD tells the two ends apart by that name.`, {
          fix: `Give one of them another name: hostnamectl set-hostname NEWNAME`,
          step: 'mirror-module',
        });
      this.patch((r) => {
        r.flavour = a.version!.flavour;
        r.unames = { A: a.uname, B: b.uname };
      });
      ctx.log(`DRBD ${a.version!.version} (${a.version!.flavour}) on both hosts`);
      return true;
    };
    return {
      id: 'mirror-module',
      title: 'Load DRBD on both hosts (modprobe drbd)',
      probe: async (ctx) => remember(ctx, false),
      apply: async (ctx) => {
        const pair = this.pair(ctx.params);
        await bothSides((s) =>
          pair.check(s, drbd.modprobeDrbd(), {
            step: 'mirror-module',
            code: 'mirror-no-drbd',
            fix: 'apt-get install -y drbd-utils kmod, on a kernel that carries drbd.ko',
          }),
        );
      },
      verify: async (ctx) => {
        await remember(ctx, true);
      },
    };
  }

  private resourceText(rec: MirrorStored): string {
    return renderResource(
      {
        name: rec.resource,
        minor: rec.minor,
        port: rec.port,
        linkMiBps: rec.linkMiBps,
        hosts: [
          { name: rec.unames.A!, address: rec.addresses.A, disk: rec.disks.A },
          { name: rec.unames.B!, address: rec.addresses.B, disk: rec.disks.B },
        ],
      },
      rec.flavour!,
    );
  }

  /** 3. /etc/drbd.d/r0.res on both: temp → drbdadm validates → fsync → rename (a crash never leaves it half-written). */
  private configStep(): Step<MirrorSetupParams> {
    const differs = async (pair: HostPair, rec: MirrorStored): Promise<Side[]> => {
      const want = this.resourceText(rec);
      const out: Side[] = [];
      for (const side of SIDES) {
        const r = await readFileExact(pair, side, `/etc/drbd.d/${rec.resource}.res`);
        if (r.code !== 0 || r.stdout !== want) out.push(side);
      }
      return out;
    };
    return {
      id: 'mirror-config',
      title: 'Write the DRBD resource on both hosts (validated, flushed, renamed into place)',
      probe: async (ctx) => (await differs(this.pair(ctx.params), this.stored()!)).length === 0,
      apply: async (ctx) => {
        const pair = this.pair(ctx.params);
        const rec = this.stored()!;
        const plan = drbd.configWritePlan(rec.resource, this.resourceText(rec));
        const todo = await differs(pair, rec);
        // both hosts at once (each write is 7 round trips)
        await bothSides(async (side) => {
          if (!todo.includes(side)) return;
          for (const s of plan.steps) {
            const r = await pair.exec(side, s.argv, { stdin: s.stdin });
            if (r.code !== 0) {
              for (const f of plan.onFailure) await pair.exec(side, f.argv);
              throw pair.failure(side, s.argv, r, {
                code: 'mirror-config',
                why: s.why,
                step: 'mirror-config',
                fix: 'Check that drbd-utils is installed and /etc/drbd.d is writable on that host, then: lockstep mirror setup',
              });
            }
          }
          // a resource already up takes the new file at once (convergent)
          const up = await pair.exec(side, drbd.cstate(rec.resource));
          if (up.code === 0 && up.stdout.trim() !== '' && up.stdout.trim() !== 'Unconfigured')
            await pair.check(side, drbd.adjust(rec.resource), { step: 'mirror-config' });
          ctx.log(`${pair.name(side)}: wrote ${plan.finalPath} (resync rate ${rec.resyncRateKiB} KiB/s from the link's ${rec.linkMiBps} MiB/s)`);
        });
      },
      verify: async (ctx) => {
        const pair = this.pair(ctx.params);
        const left = await differs(pair, this.stored()!);
        if (left.length)
          throw err('mirror-config', `The resource file is not in place on ${left.map((s) => pair.name(s)).join(', ')}.`, {
            fix: 'lockstep mirror setup',
            step: 'mirror-config',
          });
      },
    };
  }

  /** Is the resource up (a minor with a disk attached) on this side? */
  private async attached(pair: HostPair, rec: MirrorStored, side: Side): Promise<boolean> {
    const v = await this.observe(pair, rec, side, { assumeReachable: true });
    return configured(v.status) && v.status.disk !== 'Diskless';
  }

  /** 4. DRBD metadata at the end of each disk (create-md). Only on disks that are blank or confirmed with --wipe. */
  private metadataStep(): Step<MirrorSetupParams> {
    const todo = async (pair: HostPair, rec: MirrorStored): Promise<Side[]> => {
      const out: Side[] = [];
      for (const side of SIDES) if (!rec.initialized.includes(side) && !(await this.attached(pair, rec, side))) out.push(side);
      return out;
    };
    return {
      id: 'mirror-metadata',
      title: 'Write DRBD metadata on both disks (create-md)',
      probe: async (ctx) => (await todo(this.pair(ctx.params), this.stored()!)).length === 0,
      apply: async (ctx) => {
        const pair = this.pair(ctx.params);
        const rec = this.stored()!;
        const sides = await todo(pair, rec);
        await bothSides(async (side) => {
          if (!sides.includes(side)) return;
          const wiped = rec.wiped.includes(side);
          const disk = rec.disks[side];
          if (wiped) {
            await pair.check(side, ['wipefs', '--all', disk], { step: 'mirror-metadata', fix: `Check that nothing opened ${disk} on ${pair.name(side)}.` });
            ctx.log(`${pair.name(side)}: wiped the signatures of ${disk} (confirmed with --wipe)`, 'warn');
          }
          // an empty stdin: on a disk with old metadata drbdadm would ask; without a TTY it cancels instead of overwriting
          const argv = drbd.createMd(rec.resource, { force: wiped });
          const r = await pair.exec(side, argv, { stdin: '', timeoutMs: 120_000 });
          if (r.code !== 0)
            throw pair.failure(side, argv, r, {
              code: 'mirror-create-md',
              why: `DRBD metadata could not be written on ${disk}`,
              step: 'mirror-metadata',
              fix: `If ${disk} may be overwritten: lockstep mirror setup --wipe ${pair.name(side)}:${disk}`,
            });
          this.patch((x) => x.initialized.includes(side) || x.initialized.push(side));
        });
      },
      verify: async (ctx) => {
        const pair = this.pair(ctx.params);
        const rec = this.stored()!;
        for (const side of SIDES) {
          if (await this.attached(pair, rec, side)) continue;
          const use = parseDiskCheck(rec.disks[side], await pair.check(side, diskCheckArgv(rec.disks[side]), { step: 'mirror-metadata' }));
          if (use.signature?.type !== 'drbd')
            throw err('mirror-create-md', `${pair.name(side)} ${rec.disks[side]} shows no DRBD metadata after create-md.`, {
              fix: 'lockstep mirror setup',
              step: 'mirror-metadata',
            });
        }
      },
    };
  }

  /** 5. `drbdadm up` (attach + connect) where the resource is not up; both must reach Connected. */
  private upStep(): Step<MirrorSetupParams> {
    const connected = (v: View) => configured(v.status) && (v.status.state === 'connected' || v.status.state === 'syncing' || v.status.state === 'verifying');
    const views = async (pair: HostPair, rec: MirrorStored) => bothSides((s) => this.observe(pair, rec, s, { log: true, assumeReachable: true }));
    return {
      id: 'mirror-up',
      title: 'Attach the disks and connect the hosts (drbdadm up)',
      probe: async (ctx) => (await views(this.pair(ctx.params), this.stored()!)).every(connected),
      apply: async (ctx) => {
        const pair = this.pair(ctx.params);
        const rec = this.stored()!;
        await this.markResync(pair); // a returning host may resync right away: its figures are recorded in the next step
        for (const v of await views(pair, rec)) {
          const s = v.status;
          const name = pair.name(v.side);
          if (s?.state === 'split-brain')
            throw err('mirror-split-brain', `${name} is in split brain: both hosts changed the data while apart.`, {
              fix: `Decide whose data survives: lockstep mirror resolve ${pair.name(rec.primary ?? 'A')}   (the other host's changes since the split are discarded)`,
              step: 'mirror-up',
            });
          if (!configured(s)) {
            const r = await pair.exec(v.side, drbd.up(rec.resource));
            if (r.code !== 0) {
              // a failed up leaves the minor half-configured: take it down, try once more
              await pair.exec(v.side, drbd.down(rec.resource));
              await pair.check(v.side, drbd.up(rec.resource), {
                step: 'mirror-up',
                code: 'mirror-up-failed',
                fix: `On ${name}: drbdadm down ${rec.resource}; then lockstep mirror setup`,
              });
            }
            ctx.log(`${name}: ${rec.resource} up`);
          } else if (s.disk === 'Diskless' || s.state === 'standalone') {
            await pair.check(v.side, drbd.adjust(rec.resource), { step: 'mirror-up', code: 'mirror-up-failed' });
            ctx.log(`${name}: ${rec.resource} adjusted (was ${s.disk === 'Diskless' ? 'diskless' : 'standalone'})`);
          }
        }
      },
      verify: async (ctx) => {
        const pair = this.pair(ctx.params);
        const rec = this.stored()!;
        // "initial packet crossed" makes DRBD 8.4 retry after connect-int (10 s): allow for it
        const ok = await pollUntil(async () => ((await views(pair, rec)).every(connected) ? true : undefined), {
          timeoutMs: 45_000,
          intervalMs: 500,
          signal: ctx.signal,
        });
        if (!ok) {
          const v = await views(pair, rec);
          throw err(
            'mirror-not-connected',
            `The hosts do not connect over the link (${v.map((x) => `${pair.name(x.side)}: ${configured(x.status) ? x.status.cstate : 'down'}`).join(', ')}).`,
            {
              fix: `Check the link (lockstep link status) and that TCP port ${rec.port} is open between ${rec.addresses.A} and ${rec.addresses.B}; then lockstep mirror setup`,
              step: 'mirror-up',
            },
          );
        }
      },
    };
  }

  /** 6. The first full copy (A → B, with progress), or none for blank disks; a returning host resyncs incrementally here. */
  private syncStep(): Step<MirrorSetupParams> {
    const inSync = async (pair: HostPair, rec: MirrorStored) =>
      (await bothSides((s) => this.observe(pair, rec, s, { assumeReachable: true }))).every((v) => v.status !== null && isInSync(v.status));
    return {
      id: 'mirror-sync',
      title: 'Initial sync (percent, rate, time left) until both disks are UpToDate',
      probe: async (ctx) => {
        const pair = this.pair(ctx.params);
        if (!(await inSync(pair, this.stored()!))) return false;
        // a returning host may have finished its (incremental) resync already while connecting
        await this.recordResync(pair, this.stored()!, 'Resync', null);
        return true;
      },
      apply: async (ctx) => {
        const p = ctx.params;
        const pair = this.pair(p);
        const rec = this.stored()!;
        const [a, b] = await bothSides((s) => this.observe(pair, rec, s, { assumeReachable: true }));
        const sa = a!.status as Configured;
        const sb = b!.status as Configured;
        const fresh = sa.disk === 'Inconsistent' && sb.disk === 'Inconsistent' && sa.state === 'connected';
        const sizeKiB = rec.sizeKiB ?? 0;
        if (fresh && p.blank) {
          const t0 = Date.now();
          await pair.check('A', drbd.newCurrentUuidClearBitmap(rec.resource), { step: 'mirror-sync' });
          await pollUntil(async () => ((await inSync(pair, rec)) ? true : undefined), { timeoutMs: 10_000, intervalMs: 200 });
          await pair.check('A', drbd.primary(rec.resource), { step: 'mirror-sync' });
          const seconds = (Date.now() - t0) / 1000;
          this.patch((r) => {
            r.primary = 'A';
            r.initialSync = { mode: 'blank', kib: 0, seconds, mibPerSec: null, at: Date.now() };
          });
          ctx.progress({ fraction: 1, message: 'Both disks declared identical (blank): no full copy' });
          this.deps.bus.log('info', 'mirror', `Blank disks declared identical in ${seconds.toFixed(2)} s (new-current-uuid --clear-bitmap): no initial copy`);
          return;
        }
        if (fresh) {
          // the first full copy: A's data becomes the good copy
          await this.markResync(pair);
          await pair.check('A', drbd.primary(rec.resource, { force: true }), { step: 'mirror-sync' });
          this.patch((r) => (r.primary = 'A'));
          const rateMiB = rec.resyncRateKiB / 1024;
          const w = await this.watchSync(
            ctx,
            pair,
            rec,
            `Initial sync ${pair.name('A')} → ${pair.name('B')}`,
            Math.max(120_000, ((sizeKiB / 1024 / Math.max(1, rateMiB / 4)) * 1000) | 0),
          );
          const f = await this.recordResync(pair, rec, 'Initial sync', w.seconds);
          const kib = f?.resyncKiB ?? w.totalKiB ?? sizeKiB;
          const seconds = f?.seconds ?? w.seconds;
          const mibPerSec = seconds > 0 ? kib / 1024 / seconds : null;
          this.patch((r) => (r.initialSync = { mode: 'full', kib, seconds, mibPerSec, at: Date.now() }));
          this.deps.bus.log(
            'info',
            'mirror',
            `Initial sync of ${(kib / 1024).toFixed(0)} MiB in ${seconds.toFixed(2)} s${mibPerSec ? ` (${mibPerSec.toFixed(1)} MiB/s; resync rate set to ${fmtMiB(rec.resyncRateKiB)} from the link's ${rec.linkMiBps} MiB/s)` : ''}`,
            {
              data: {
                initial_sync_mib_s: mibPerSec,
                seconds,
                kib,
                resyncRateKiB: rec.resyncRateKiB,
                linkMiBps: rec.linkMiBps,
                sync_rate_over_link_ratio: mibPerSec !== null ? mibPerSec / rec.linkMiBps : null,
              },
            },
          );
          return;
        }
        // a host came back (or a resync is running): DRBD copies only what its bitmap marks
        const w = await this.watchSync(ctx, pair, rec, 'Resync', 600_000);
        await this.recordResync(pair, rec, 'Resync', w.seconds);
      },
      verify: async (ctx) => {
        const pair = this.pair(ctx.params);
        if (!(await inSync(pair, this.stored()!)))
          throw err('mirror-not-in-sync', 'The disks are not both UpToDate.', {
            fix: 'lockstep mirror status; then lockstep mirror setup',
            step: 'mirror-sync',
          });
      },
    };
  }

  /** 7. Remember that the mirror is complete. */
  private recordStep(): Step<MirrorSetupParams> {
    return {
      id: 'mirror-record',
      title: 'Remember the mirror',
      probe: async () => this.stored()?.complete === true,
      apply: async () => {
        const rec = this.patch((r) => (r.complete = true));
        this.deps.bus.log(
          'info',
          'mirror',
          `Mirror ${rec.resource} (${rec.device}) up: ${rec.names.A} ${rec.disks.A} ⇄ ${rec.names.B} ${rec.disks.B} over ${rec.addresses.A} ⇄ ${rec.addresses.B}`,
        );
      },
      verify: async () => {},
    };
  }

  // ── mirror.verify ───────────────────────────────────────────────────────────────────

  /** `drbdadm verify` from the primary side, watched until done; returns KiB found out of sync. */
  private async runVerify(ctx: StepContext<unknown>, pair: HostPair, rec: MirrorStored, step: string): Promise<number> {
    const views = await bothSides((s) => this.observe(pair, rec, s));
    for (const v of views)
      if (!v.status || !isInSync(v.status))
        throw err(
          'mirror-not-in-sync',
          `Online verify needs both hosts connected and UpToDate; ${pair.name(v.side)} is ${v.status ? `${v.status.state}` : 'unreachable'}.`,
          {
            fix: 'lockstep mirror status (wait for a running sync; a split brain needs lockstep mirror resolve SURVIVOR)',
            step,
          },
        );
    const from: Side = (views[1]!.status as Configured).role === 'Primary' ? 'B' : 'A';
    const doneCount = async () => (await pair.check(from, ['sh', '-c', 'dmesg | grep -ac "Online verify done" || true'])).trim();
    const before = await doneCount();
    const t0 = Date.now();
    await pair.check(from, drbd.verify(rec.resource), { step, fix: 'verify needs verify-alg in the resource (lockstep mirror setup writes it)' });
    let lastLog = 0;
    for (;;) {
      const v = await this.observe(pair, rec, from, { assumeReachable: true });
      const s = v.status;
      if (s?.state === 'verifying') {
        const p: ProgressDTO = {
          fraction: s.percent !== null ? Math.min(0.999, s.percent / 100) : null,
          message: `Online verify: ${s.percent ?? '?'}%${s.rateKiBps !== null ? ` at ${fmtMiB(s.rateKiBps)}` : ''}${s.etaSeconds !== null ? `, ${s.etaSeconds} s left` : ''}`,
          ...(s.rateKiBps !== null ? { rate: s.rateKiBps * KiB, rateUnit: 'B/s' } : {}),
          ...(s.etaSeconds !== null ? { etaSeconds: s.etaSeconds } : {}),
        };
        ctx.progress(p);
        if (Date.now() - lastLog > 1000) {
          lastLog = Date.now();
          this.deps.bus.log('info', 'mirror', p.message, { data: { planId: ctx.planId, fraction: p.fraction } });
        }
      } else if ((await doneCount()) !== before) break;
      else if (!configured(s) || s.state === 'standalone' || s.state === 'split-brain' || s.state === 'disconnected')
        throw err('mirror-verify-failed', `Online verify stopped: ${pair.name(from)} is ${s?.state ?? 'down'}.`, {
          fix: 'lockstep mirror status, then lockstep mirror verify',
          step,
        });
      if (Date.now() - t0 > 600_000)
        throw err('mirror-verify-slow', 'Online verify did not finish within 10 minutes.', { fix: 'lockstep mirror status', step });
      await sleep(500, ctx.signal);
    }
    const after = await bothSides((s) => this.observe(pair, rec, s, { assumeReachable: true }));
    const oos = Math.max(...after.map((v) => (configured(v.status) ? (v.status.outOfSyncKiB ?? 0) : 0)));
    const seconds = (Date.now() - t0) / 1000;
    this.patch((r) => (r.lastVerify = { outOfSyncKiB: oos, seconds, at: Date.now() }));
    ctx.progress({ fraction: 1, message: `Online verify: ${oos} KiB out of sync` });
    this.deps.bus.log(oos ? 'warn' : 'info', 'mirror', `Online verify of ${rec.resource}: ${oos} KiB out of sync (${seconds.toFixed(1)} s)`, {
      data: {
        outOfSyncKiB: oos,
        seconds,
        ...(oos ? { fix: `On either host: drbdadm disconnect ${rec.resource} && drbdadm connect ${rec.resource} (resyncs the blocks found)` } : {}),
      },
    });
    return oos;
  }

  private verifyKind(): PlanKind<{ hosts: Record<Side, string> }> {
    return {
      kind: 'mirror.verify',
      title: () => 'Compare both disks online (drbdadm verify)',
      steps: () => [
        {
          id: 'mirror-verify',
          title: 'Online verify: compare every block of both disks',
          probe: async () => false,
          apply: async (ctx) => {
            await this.runVerify(ctx as StepContext<unknown>, this.pair(ctx.params), this.requireMirror(), 'mirror-verify');
          },
          verify: async () => {},
        },
      ],
    };
  }

  // ── mirror.resolve ──────────────────────────────────────────────────────────────────

  private resolveKind(): PlanKind<{ hosts: Record<Side, string>; survivor: Side }> {
    const views = async (pair: HostPair, rec: MirrorStored) => bothSides((s) => this.observe(pair, rec, s, { log: true }));
    const healthy = (vs: View[]) => vs.every((v) => v.status !== null && (isInSync(v.status) || v.status.state === 'syncing'));
    return {
      kind: 'mirror.resolve',
      title: (p) => `Resolve the split brain: keep ${p.survivor === 'A' ? p.hosts.A : p.hosts.B}'s data`,
      steps: (p) => {
        const victim = other(p.survivor);
        return [
          {
            id: 'mirror-sb-check',
            title: 'Check both hosts and the survivor’s copy',
            probe: async () => false,
            apply: async (ctx) => {
              const pair = this.pair(ctx.params);
              const rec = this.requireMirror();
              const vs = await views(pair, rec);
              for (const v of vs)
                if (!configured(v.status))
                  throw err(
                    'mirror-not-up',
                    `${pair.name(v.side)} is ${v.status ? 'not running the mirror' : 'unreachable'}: both hosts are needed to resolve a split brain.`,
                    {
                      fix: v.status ? 'lockstep mirror setup' : `Power ${pair.name(v.side)} on, then: lockstep mirror resolve ${pair.name(p.survivor)}`,
                      step: 'mirror-sb-check',
                    },
                  );
              const s = vs.find((v) => v.side === p.survivor)!.status as Configured;
              if (s.disk !== 'UpToDate')
                throw err('mirror-survivor-stale', `${pair.name(p.survivor)}'s copy is ${s.disk}: it cannot be the survivor.`, {
                  fix: `lockstep mirror resolve ${pair.name(victim)}`,
                  step: 'mirror-sb-check',
                });
              const split = vs.some((v) => v.status?.state === 'split-brain');
              ctx.log(
                split
                  ? `Split brain: ${vs.map((v) => `${pair.name(v.side)} ${(v.status as Configured).role}, ${(v.status as Configured).outOfSyncKiB ?? '?'} KiB out of sync`).join('; ')}. Keeping ${pair.name(p.survivor)}'s data, discarding ${pair.name(victim)}'s changes.`
                  : `No split brain in the kernel log (${vs.map((v) => `${pair.name(v.side)} ${v.status!.state}`).join(', ')}); reconnecting with ${pair.name(victim)} discarding its changes anyway.`,
                split ? 'info' : 'warn',
              );
            },
            verify: async () => {},
          },
          {
            id: 'mirror-sb-victim',
            title: 'The other host: secondary, reconnect discarding its changes (connect --discard-my-data)',
            probe: async (ctx) => healthy(await views(this.pair(ctx.params), this.requireMirror())),
            apply: async (ctx) => {
              const pair = this.pair(ctx.params);
              const rec = this.requireMirror();
              const v = (await this.observe(pair, rec, victim)).status as Configured;
              if (v.role === 'Primary') {
                const r = await pair.exec(victim, drbd.secondary(rec.resource));
                if (r.code !== 0)
                  throw pair.failure(victim, drbd.secondary(rec.resource), r, {
                    code: 'mirror-in-use',
                    why: `${pair.name(victim)} cannot give up the primary role`,
                    fix: `On ${pair.name(victim)}: stop what uses ${rec.device} (umount, stop the guest), then: lockstep mirror resolve ${pair.name(p.survivor)}`,
                    step: 'mirror-sb-victim',
                  });
              }
              await this.markResync(pair);
              if (v.state !== 'standalone' && v.state !== 'split-brain') await pair.exec(victim, drbd.disconnect(rec.resource));
              await pair.check(victim, drbd.connect(rec.resource, { discardMyData: true }), { step: 'mirror-sb-victim' });
              this.deps.bus.log('warn', 'mirror', `${pair.name(victim)}: changes since the split are being discarded (connect --discard-my-data)`, {
                host: pair.hosts[victim].hostId,
              });
            },
            verify: async () => {},
          },
          {
            id: 'mirror-sb-survivor',
            title: 'The survivor: reconnect',
            probe: async (ctx) => {
              const pair = this.pair(ctx.params);
              const s = (await this.observe(pair, this.requireMirror(), p.survivor)).status;
              return configured(s) && s.state !== 'standalone' && s.state !== 'split-brain';
            },
            apply: async (ctx) => {
              const pair = this.pair(ctx.params);
              await pair.check(p.survivor, drbd.connect(this.requireMirror().resource), { step: 'mirror-sb-survivor' });
            },
            verify: async () => {},
          },
          {
            id: 'mirror-sb-resync',
            title: 'Resync the other host from the survivor',
            probe: async () => false,
            apply: async (ctx) => {
              const pair = this.pair(ctx.params);
              const rec = this.requireMirror();
              const w = await this.watchSync(ctx as StepContext<unknown>, pair, rec, `Resync ${pair.name(p.survivor)} → ${pair.name(victim)}`, 600_000);
              await this.recordResync(pair, rec, 'Split-brain resync', w.seconds);
              const after = await views(pair, rec);
              const primary = after.find((v) => configured(v.status) && v.status.role === 'Primary');
              this.patch((r) => (r.primary = primary?.side ?? null));
            },
            verify: async () => {},
          },
          {
            id: 'mirror-sb-verify',
            title: 'Verify both disks (drbdadm verify)',
            probe: async () => false,
            apply: async (ctx) => {
              const oos = await this.runVerify(ctx as StepContext<unknown>, this.pair(ctx.params), this.requireMirror(), 'mirror-sb-verify');
              if (oos > 0)
                throw err('mirror-verify-differs', `After the resync, online verify still found ${oos} KiB out of sync.`, {
                  fix: `On either host: drbdadm disconnect ${RESOURCE} && drbdadm connect ${RESOURCE}, then lockstep mirror verify`,
                  step: 'mirror-sb-verify',
                });
            },
            verify: async () => {},
          },
        ];
      },
    };
  }
}
