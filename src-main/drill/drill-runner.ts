import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LockstepError } from '../contract/index.js';
import type { DrillMode, DrillReport, PairStatus } from '../contract/lockstep.js';
import type { LabHostDTO, LabStatus } from '../contract/lab.js';
import type { LockstepService } from '../lockstep/lockstep-service.js';
import { HOST_PATHS, vmFiles } from '../lockstep/pair-record.js';
import { paths } from '../lockstep/colo-args.js';
import { Qmp } from '../lockstep/qmp.js';
import { pidOf, killQemu } from '../lockstep/host-ops.js';
import { analyseSamples } from './analyse.js';
import { runMeter, type MeterControl, type MeterResult } from './meter.js';

const EXPECTED: Record<DrillMode, string> = {
  'kill-primary-vm': 'The secondary takes over; the client keeps its TCP session and the counter never goes backwards.',
  'power-off-host': 'The secondary takes over; the client keeps its TCP session and the counter never goes backwards.',
  'cut-public-link':
    'Clients lose the primary, the crossover still works: the secondary takes over, the isolated primary is fenced (powered off), never two primaries; the client keeps its TCP session.',
  'cut-crossover': 'No failover and never two primaries: the primary keeps serving alone (unprotected).',
  'kill-secondary': 'The primary continues alone; the client keeps its TCP session.',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const METER_SECONDS = 14;
/** the meter watches at least this long after the fault was handled (a slow failover is not cut short) */
const AFTER_HANDLED_MS = 6000;
/** and never longer than this past its planned length */
const METER_CAP_EXTRA_SECONDS = 45;
const BASELINE_MS = 3000;

/** Runs the meter where a client sits: the lab's client namespace, else this desktop. */
async function startMeter(svc: LockstepService, address: string, seconds: number): Promise<{ done: Promise<MeterResult>; endIn(ms: number): void }> {
  const lab = await svc.deps.lab.status();
  if (lab.state !== 'up') {
    const control: MeterControl = {};
    return { done: runMeter(address, seconds, 10, control), endIn: (ms) => (control.endAt = Date.now() + ms) };
  }
  const script = join(svc.deps.distDir, 'main/drill/meter.js');
  let endIn = (_ms: number) => {};
  const done = new Promise<MeterResult>((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', lab.clientNetns, process.execPath, script, address, String(seconds)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    endIn = (ms) => child.stdin.write(`end-in ${Math.max(0, Math.round(ms))}\n`);
    child.stdin.on('error', () => undefined);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out) as MeterResult);
      } catch {
        reject(
          new LockstepError({ code: 'meter-failed', message: `The downtime meter failed (exit ${code}).`, cause: err.slice(0, 300), fix: 'npm run build' }),
        );
      }
    });
  });
  // a promise inside an object: awaiting startMeter must not wait for the meter to finish
  return { done, endIn: (ms) => endIn(ms) };
}

/** power-off-host and cut-public-link are drilled on the virtual lab only (a real host needs sysrq/IPMI and a confirmed name). */
function labHostOf(lab: LabStatus, hostId: string, mode: DrillMode): LabHostDTO {
  const h = lab.state === 'up' ? lab.hosts.find((x) => `${x.address}:${x.port}` === hostId) : undefined;
  if (!h)
    throw new LockstepError({
      code: 'not-lab',
      message: `${mode} is only drilled on the virtual lab here.`,
      fix: 'On real hosts: sysrq o or IPMI (needs a confirmed host name), or pull the cable by hand.',
    });
  return h;
}

/** Never two primaries: after a drill exactly one guest VM runs on the pair (lab: seen from the machine; else over SSH). */
async function vmsRunning(svc: LockstepService, lab: LabStatus, hosts: string[]): Promise<number> {
  let n = 0;
  for (const ref of hosts) {
    const h = lab.state === 'up' ? lab.hosts.find((x) => `${x.address}:${x.port}` === ref) : undefined;
    if (h) {
      n += await svc.deps.lab.vmsRunning(h.name);
      continue;
    }
    const s = await svc.deps.hosts.session(ref);
    for (const role of ['primary', 'secondary'] as const) if ((await pidOf(s, paths(HOST_PATHS.run, role).pid)) !== null) n++;
  }
  return n;
}

export async function runDrill(svc: LockstepService, mode: DrillMode, seconds = METER_SECONDS): Promise<DrillReport> {
  const before: PairStatus = await svc.status();
  const r = svc.record();
  if (before.state !== 'lockstep' || !r)
    throw new LockstepError({
      code: 'not-in-lockstep',
      message: 'A drill needs the guest running in lockstep.',
      fix: 'Protect the guest first (Setup → Protect).',
    });
  // armed host agents would act on the fault too, racing the drill's own failover
  if (svc.agentsDeployed?.())
    throw new LockstepError({
      code: 'agents-armed',
      message: 'The host agents are deployed: they would fail over on this fault too, racing the drill.',
      fix: 'lockstep agent stop, then run the drill (pull the plug by hand to watch the agents act alone)',
    });
  const lab = await svc.deps.lab.status();
  if (mode === 'power-off-host' || mode === 'cut-public-link') labHostOf(lab, r.primary, mode);
  svc.deps.bus.log('warn', 'drill', `Drill ${mode}: ${EXPECTED[mode]}`);
  const startedAt = Date.now();
  const meter = await startMeter(svc, r.guestAddress, seconds + METER_CAP_EXTRA_SECONDS);
  const plannedEnd = Date.now() + seconds * 1000;
  const timeline: { t: number; what: string }[] = [];
  const mark = (what: string) => timeline.push({ t: Date.now() - startedAt, what });
  const reasons: string[] = [];
  let detectionMs: number | null = null;
  let faultAt: number | undefined;
  let handledAt: number | undefined;
  // inject the fault and handle it; the meter then watches at least AFTER_HANDLED_MS more
  const inject = async (): Promise<void> => {
    await sleep(BASELINE_MS);
    const sa = await svc.deps.hosts.session(r.primary);
    const sb = await svc.deps.hosts.session(r.secondary);
    // like the host agent: a live watch on the primary (its QMP connection drops the moment QEMU dies,
    // a heartbeat query catches a host that vanished silently) and the secondary's QMP ready to act
    // (opened before the fault: a generous deadline costs the measurement nothing)
    const watch = await Qmp.open(sa, paths(HOST_PATHS.run, vmFiles(r, 'primary')).qmp, { timeoutMs: 10_000 });
    const qSecondary = await Qmp.open(sb, paths(HOST_PATHS.run, 'secondary').qmp, { timeoutMs: 10_000 }).catch((e: unknown) => {
      watch.close();
      throw e;
    });
    const primaryGone = async (limitMs: number): Promise<void> => {
      const until = Date.now() + limitMs;
      while (Date.now() < until && !watch.closed) {
        const ok = await watch.exec('query-status', undefined, { timeoutMs: 150 }).then(
          () => true,
          () => false,
        );
        if (!ok) return;
        await sleep(20);
      }
    };
    const tFault = Date.now();
    faultAt = tFault - startedAt;
    if (mode === 'kill-primary-vm' || mode === 'power-off-host' || mode === 'cut-public-link') {
      if (mode === 'kill-primary-vm') {
        await sa.exec(['sh', '-c', 'kill -9 "$(cat "$1")"', 'sh', paths(HOST_PATHS.run, vmFiles(r, 'primary')).pid]);
        mark('primary QEMU killed (kill -9)');
      } else if (mode === 'power-off-host') {
        await svc.deps.lab.powerOff(labHostOf(lab, r.primary, mode).name);
        mark('primary host powered off');
      } else {
        const nics = await svc.deps.lab.setLinks(labHostOf(lab, r.primary, mode).name, 'public', false);
        mark(`primary's public link cut (${nics.join(', ')})`);
      }
      await primaryGone(10_000);
      detectionMs = Date.now() - tFault;
      mark(mode === 'cut-public-link' ? 'primary unreachable on the public network' : 'primary loss detected');
      const qmpMs = await svc.failoverOnSecondary(r, qSecondary);
      mark(`failover done on the secondary (${qmpMs} ms of QMP)`);
      if (mode === 'cut-public-link') {
        // alive behind its cut cable: fenced before its link can come back (STONITH), as IPMI would on a real host
        await svc.deps.lab.powerOff(labHostOf(lab, r.primary, mode).name);
        mark('isolated primary fenced: powered off');
      }
    } else if (mode === 'kill-secondary') {
      await sb.exec(['sh', '-c', 'kill -9 "$(cat "$1")"', 'sh', paths(HOST_PATHS.run, 'secondary').pid]);
      mark('secondary QEMU killed (kill -9)');
      while ((await pidOf(sb, paths(HOST_PATHS.run, 'secondary').pid)) !== null && Date.now() - tFault < 10_000) await sleep(20);
      detectionMs = Date.now() - tFault;
      mark('secondary loss detected');
      const ms = await svc.continueAlone(r, watch);
      mark(`primary continues alone (${ms} ms of QMP)`);
    } else {
      const h = lab.state === 'up' ? lab.hosts.find((x) => `${x.address}:${x.port}` === r.primary) : undefined;
      const link = svc.deps.link ? await svc.deps.link.status().catch(() => null) : null;
      const nic = link?.state === 'up' ? (link.a.host === r.primary ? link.a.nic : link.b.nic) : h?.nics.find((n) => n.role === 'crossover')?.name;
      if (!nic) throw new LockstepError({ code: 'no-link', message: 'No crossover NIC is known for the primary.', fix: 'lockstep link setup A B' });
      await sa.check(['ip', 'link', 'set', nic, 'down']);
      mark(`crossover ${nic} cut on the primary`);
      detectionMs = 0;
      // the peer is still alive on the public path: never fail over; the primary continues alone and the secondary is retired
      const ms = await svc.continueAlone(r, watch);
      mark(`primary continues alone, pair unprotected (${ms} ms of QMP)`);
      await killQemu(sb, paths(HOST_PATHS.run, 'secondary').pid, 1000);
      mark('secondary retired: never two primaries');
      await sa.check(['ip', 'link', 'set', nic, 'up']);
      mark('crossover restored');
    }
    handledAt = Date.now() - startedAt;
    watch.close();
    qSecondary.close();
  };
  try {
    await inject();
  } catch (e) {
    meter.endIn(0);
    await meter.done.catch(() => undefined);
    throw e;
  }
  meter.endIn(Math.max(plannedEnd - Date.now(), AFTER_HANDLED_MS));
  const m = await meter.done;
  const after = await svc.status();
  const shift = m.startedAt - startedAt;
  const samples = m.samples.map((s) => ({ ...s, t: s.t + shift }));
  const http = analyseSamples(samples, faultAt === undefined ? undefined : { at: faultAt, handledAt });
  if (http.wentBackwards) reasons.push('The counter went backwards.');
  if (!m.stream.survived) reasons.push(`The client's TCP session did not survive (${m.stream.error ?? 'closed'}).`);
  if (http.answersAfterLastFailure === 0) reasons.push('The guest did not answer again after the fault.');
  const vms = await vmsRunning(svc, lab, [r.primary, r.secondary]);
  if (vms > 1) reasons.push(`${vms} guest VMs still run on the pair after the drill: two primaries possible.`);
  if (vms === 0) reasons.push('No guest VM runs on the pair after the drill.');
  const report = svc.drills.insert({
    mode,
    expected: EXPECTED[mode],
    startedAt,
    endedAt: Date.now(),
    verdict: reasons.length ? 'failed' : 'passed',
    reasons,
    timeline,
    http: {
      attempts: http.attempts,
      failures: http.failures,
      longestGapMs: http.longestGapMs,
      faultGapMs: http.faultGapMs,
      gapsMs: http.gapsMs,
      wentBackwards: http.wentBackwards,
      samples,
    },
    stream: { survived: m.stream.survived, longestGapMs: m.stream.longestGapMs, wentBackwards: m.stream.wentBackwards },
    detectionMs,
    before,
    after,
  });
  svc.deps.bus.log(
    report.verdict === 'passed' ? 'info' : 'error',
    'drill',
    `Drill ${mode}: ${report.verdict}; longest gap ${http.longestGapMs} ms (across the fault ${http.faultGapMs ?? '—'} ms), TCP ${m.stream.survived ? 'kept' : 'lost'}${reasons.length ? ` — ${reasons.join(' ')}` : ''}`,
  );
  return report;
}
