import type { EventBus } from '../events/event-bus.js';
import type { HostDTO } from '../contract/hosts.js';
import { LockstepError } from '../contract/index.js';
import type { LastPreflight, PreflightHostSummary, PreflightReport } from '../contract/preflight.js';
import { decideAccel } from '../hosts/accel.js';
import type { HostsService } from '../hosts/hosts-service.js';
import type { KeyValueRepo } from '../store/kv-repo.js';
import { RecordRepo } from '../store/record-repo.js';
import { lastPreflightSchema, PREFLIGHT_KEY } from './preflight-record.js';
import type { HostFacts } from '../hosts/facts/facts.js';
import { hostFindings } from './findings.js';
import { pairFindings } from './pair-findings.js';
import { GATHER_SCRIPT } from '../hosts/facts/gather-script.js';
import { parseGatherOutput } from '../hosts/facts/parse.js';
import { installFixAnyDistro } from '../hosts/distro.js';

const MiB = 1024 * 1024;

/** Runs the gather script on each host (one round trip each, in parallel) and judges the pair. */
export class PreflightService {
  /** the last report: owned here, validated on every read */
  private readonly reports: RecordRepo<LastPreflight>;

  constructor(private readonly deps: { hosts: HostsService; bus: EventBus; kv: KeyValueRepo }) {
    this.reports = new RecordRepo(deps.kv, PREFLIGHT_KEY, lastPreflightSchema, { redo: 'lockstep preflight run HOST_A HOST_B', overwrites: true });
  }

  async gather(h: HostDTO): Promise<{ facts: HostFacts; offsetSeconds: number | null; ms: number }> {
    const s = await this.deps.hosts.session(h);
    const t0 = Date.now();
    const r = await s.exec(['sh', '-s'], { stdin: GATHER_SCRIPT, timeoutMs: 90_000 });
    const t1 = Date.now();
    if (r.code !== 0 && !r.stdout.includes('===')) {
      // every command starts through /usr/bin/env (hosts/host-command): without it nothing runs
      if (r.code === 127 && /\/usr\/bin\/env/.test(r.stderr))
        throw new LockstepError({
          code: 'preflight-failed',
          message: `${h.name} has no /usr/bin/env, through which the app starts every program.`,
          cause: r.stderr.trim().slice(0, 300),
          host: h.hostId,
          fix: `Install env (coreutils) on ${h.name}: ${installFixAnyDistro(['env'])}`,
        });
      throw new LockstepError({
        code: 'preflight-failed',
        message: `Could not read the facts of ${h.name}.`,
        cause: r.stderr.trim().slice(0, 300),
        host: h.hostId,
        fix: `Check that /bin/sh exists on ${h.name} and that ${h.user}'s login shell starts (ssh -p ${h.port} ${h.user}@${h.address} true)`,
      });
    }
    const facts = parseGatherOutput(r.stdout);
    const offsetSeconds = facts.clockEpochSeconds === null ? null : facts.clockEpochSeconds - (t0 + t1) / 2000;
    return { facts, offsetSeconds, ms: t1 - t0 };
  }

  /** The last report (its record), or null before the first preflight. */
  last(): LastPreflight | null {
    return this.reports.get() ?? null;
  }

  async run(i: { a: string; b?: string; guestRamMiB: number }): Promise<PreflightReport> {
    const started = Date.now();
    const refs = i.b ? [i.a, i.b] : [i.a];
    const hosts = refs.map((r) => this.deps.hosts.resolve(r));
    if (hosts.length === 2 && hosts[0]!.id === hosts[1]!.id) {
      throw new LockstepError({
        code: 'same-host',
        message: `Both hosts are ${hosts[0]!.hostId}.`,
        fix: 'Name two different hosts: lockstep preflight HOST_A HOST_B',
      });
    }
    const gathered = await Promise.all(hosts.map((h) => this.gather(h)));
    const labs = await Promise.all(hosts.map((h) => this.deps.hosts.labFlavourOf(h)));
    const summaries: PreflightHostSummary[] = gathered.map((g, k) => ({
      hostId: hosts[k]!.hostId,
      name: g.facts.hostname ?? hosts[k]!.name,
      kernel: g.facts.kernel,
      accel: decideAccel({ kvmDevice: g.facts.kvmDevice, cpuFlags: g.facts.cpuFlags }).accel,
      qemu: g.facts.qemu.version ? `${g.facts.qemu.version.major}.${g.facts.qemu.version.minor}.${g.facts.qemu.version.patch}` : null,
      drbd: g.facts.drbd.kernelVersion ?? g.facts.drbd.utilsVersion ?? null,
      memoryMiB: g.facts.memory?.totalBytes ? Math.round(g.facts.memory.totalBytes / MiB) : null,
      gatherMs: g.ms,
    }));
    const guestRamBytes = i.guestRamMiB * MiB;
    let report: PreflightReport;
    if (gathered.length === 1) {
      const findings = hostFindings(gathered[0]!.facts, { guestRamBytes, label: hosts[0]!.name, lab: labs[0] });
      const fail = findings.filter((f) => f.level === 'fail');
      report = {
        hosts: summaries,
        findings,
        verdict: { tier: 'none', why: `One host checked${fail.length ? `: ${fail.length} problem(s) to fix` : ''}; protection needs two.` },
        clockOffsetSeconds: null,
        seconds: 0,
      };
    } else {
      const [a, b] = gathered as [(typeof gathered)[0], (typeof gathered)[0]];
      const clock = a.offsetSeconds !== null && b.offsetSeconds !== null ? b.offsetSeconds - a.offsetSeconds : null;
      const { findings, verdict } = pairFindings(a.facts, b.facts, {
        guestRamBytes,
        clockOffsetSeconds: clock,
        labels: [hosts[0]!.name, hosts[1]!.name],
        labs: [labs[0], labs[1]],
      });
      report = { hosts: summaries, findings, verdict, clockOffsetSeconds: clock, seconds: 0 };
    }
    report.seconds = (Date.now() - started) / 1000;
    this.reports.set({ at: Date.now(), refs, report });
    const fails = report.findings.filter((f) => f.level === 'fail').length;
    this.deps.bus.log(
      fails ? 'warn' : 'info',
      'preflight',
      `Preflight ${refs.join(' + ')}: ${report.verdict.tier} (${fails} to fix, ${report.findings.filter((f) => f.level === 'warn').length} warnings) in ${report.seconds.toFixed(1)} s`,
    );
    return report;
  }
}
