import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LockstepError } from '../contract/index.js';
import type { SshSession } from '../hosts/ssh-session.js';
import type { DrillMode, DrillReport, PairStatus } from '../contract/lockstep.js';
import type { LabHostDTO, LabStatus } from '../contract/lab.js';
import { Qmp } from '../hosts/qmp.js';
import type { DrillAgentAct } from '../contract/lockstep.js';
import type { DrillAgents, DrillContext, DrillPair } from './drill-context.js';
import { finishDrill as finish } from './drill-finish.js';
import { drillRefusal } from './drill-refusal.js';
import type { DrillsRepo } from './drills-repo.js';
import { runMeter, type MeterControl, type MeterResult } from './meter.js';

const EXPECTED: Record<DrillMode, string> = {
  'kill-primary-vm': 'The secondary takes over (its host agent acts, as at 3 am); the client keeps its TCP session and the counter never goes backwards.',
  'power-off-host': 'The secondary takes over (its host agent acts, as at 3 am); the client keeps its TCP session and the counter never goes backwards.',
  'cut-public-link':
    "Clients lose the primary while the crossover still works, so the agents hold (public-lost): the app fences the isolated primary (powered off, as IPMI would), then the secondary's agent takes over; never two primaries; the client keeps its TCP session.",
  'cut-crossover': "No failover and never two primaries: the primary's agent continues alone (degraded), the secondary's agent disarms.",
  'kill-secondary': 'The primary continues alone (its host agent acts); the client keeps its TCP session.',
};

/** Which host's agent must act: the survivor. */
const ACTOR: Record<DrillMode, 'primary' | 'secondary'> = {
  'kill-primary-vm': 'secondary',
  'power-off-host': 'secondary',
  'cut-public-link': 'secondary',
  'cut-crossover': 'primary',
  'kill-secondary': 'primary',
};
/** how long the acting agent may take (detection + colo-failover) before the drill says it did not act */
const ACT_LIMIT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const METER_SECONDS = 14;
/** the meter watches at least this long after the fault was handled (a slow failover is not cut short) */
const AFTER_HANDLED_MS = 6000;
/** and never longer than this past its planned length */
const METER_CAP_EXTRA_SECONDS = 45;
const BASELINE_MS = 3000;

/**
 * Runs the meter where a client sits: the lab's client namespace, else this desktop. `port`: a user
 * VM's TCP port to watch (connect + close) instead of the demo guest's counter.
 */
export async function startMeter(
  svc: DrillContext,
  address: string,
  seconds: number,
  port?: number,
): Promise<{ done: Promise<MeterResult>; endIn(ms: number): void }> {
  const lab = await svc.lab.status();
  if (lab.state !== 'up') {
    const control: MeterControl = {};
    return { done: runMeter(address, seconds, 10, control, port), endIn: (ms) => (control.endAt = Date.now() + ms) };
  }
  const script = join(svc.distDir, 'main/drill/meter.js');
  let endIn = (_ms: number) => {};
  const tcp = port !== undefined ? [`tcp=${port}`] : [];
  const done = new Promise<MeterResult>((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', lab.clientNetns, process.execPath, script, address, String(seconds), ...tcp], {
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

/** Refuses a drill that would be unsafe or would not measure the production path, with the fix. */
async function preconditions(svc: DrillContext): Promise<{ before: PairStatus; r: DrillPair; agents: DrillAgents }> {
  const before: PairStatus = await svc.status();
  const r = svc.pair();
  const refused = drillRefusal(before);
  if (refused) throw refused;
  if (!r)
    throw new LockstepError({
      code: 'not-in-lockstep',
      message: 'A drill needs the guest running in lockstep.',
      fix: 'Protect the guest first (Setup → Protect).',
    });
  const agents = svc.agents;
  if (!agents) throw new LockstepError({ code: 'no-agents', message: 'No host agent tools: drills let the host agents act.' });
  // the drill measures the path that runs at 3 am: the agents must be armed (deployed now if not)
  const armed = await r.armAgents().catch((e: unknown) => {
    throw new LockstepError({
      code: 'agents-not-armed',
      message: 'A drill pulls the plug and lets the host agents fail over, as they would at 3 am; they could not be armed.',
      cause: (e as Error).message,
      fix: 'lockstep agent deploy (then lockstep agent status)',
    });
  });
  if (armed === 'deployed') svc.bus.log('info', 'drill', 'Host agents armed for the drill (lockstep agent deploy)');
  return { before, r, agents };
}

/** Runs a shell line on a host that prints the host's clock (ms) right before it acts: the fault's time. */
async function faultOnHost(s: SshSession, line: string, arg: string): Promise<number> {
  const out = await s.check(['sh', '-c', `date +%s%3N; ${line}`, 'sh', arg]);
  const at = Number(out.trim().split('\n')[0]);
  return Number.isFinite(at) && at > 0 ? at : Date.now();
}

export async function runDrill(svc: DrillContext, drills: DrillsRepo, mode: DrillMode, seconds = METER_SECONDS): Promise<DrillReport> {
  const { before, r, agents } = await preconditions(svc);
  const lab = await svc.lab.status();
  if (mode === 'power-off-host' || mode === 'cut-public-link') labHostOf(lab, r.primary, mode);
  const actorRef = ACTOR[mode] === 'secondary' ? r.secondary : r.primary;
  const actorName = svc.hosts.resolve(actorRef).name;
  svc.bus.log('warn', 'drill', `Drill ${mode}: ${EXPECTED[mode]}`);
  const startedAt = Date.now();
  const meter = await startMeter(svc, r.guestAddress, seconds + METER_CAP_EXTRA_SECONDS, r.guestPort);
  const plannedEnd = Date.now() + seconds * 1000;
  const timeline: { t: number; what: string }[] = [];
  const mark = (what: string, at = Date.now()) => timeline.push({ t: at - startedAt, what });
  const reasons: string[] = [];
  let tFault = 0;
  let act: DrillAgentAct | null = null;
  let crossoverNic = '';
  // pull the plug, then only watch: the armed agents act (the app acts only as a fence, and to retire a stale secondary)
  const inject = async (): Promise<void> => {
    await sleep(BASELINE_MS);
    const sa = await svc.hosts.session(r.primary);
    const sb = await svc.hosts.session(r.secondary);
    const primaryPid = r.vm('primary').pid;
    const kill = 'kill -9 "$(cat "$1")"';
    if (mode === 'kill-primary-vm') {
      tFault = await faultOnHost(sa, kill, primaryPid);
      mark('primary QEMU killed (kill -9)', tFault);
    } else if (mode === 'power-off-host') {
      tFault = Date.now();
      await svc.lab.powerOff(labHostOf(lab, r.primary, mode).name);
      mark('primary host powered off', tFault);
    } else if (mode === 'cut-public-link') {
      // the app watches the primary over the public network (SSH + QMP): the agents hold while the crossover is heard
      const watch = await Qmp.open(sa, r.vm('primary').qmp, { timeoutMs: 10_000 });
      tFault = Date.now();
      const nics = await svc.lab.setLinks(labHostOf(lab, r.primary, mode).name, 'public', false);
      mark(`primary's public link cut (${nics.join(', ')})`, tFault);
      for (const until = Date.now() + 10_000; Date.now() < until && !watch.closed; await sleep(20))
        if (
          !(await watch.exec('query-status', undefined, { timeoutMs: 150 }).then(
            () => true,
            () => false,
          ))
        )
          break;
      watch.close();
      mark('app: primary unreachable on the public network (the agents hold: crossover still heard)');
      await svc.lab.powerOff(labHostOf(lab, r.primary, mode).name);
      mark('app fenced the isolated primary: powered off (as IPMI would)');
    } else if (mode === 'kill-secondary') {
      tFault = await faultOnHost(sb, kill, r.vm('secondary').pid);
      mark('secondary QEMU killed (kill -9)', tFault);
    } else {
      const h = lab.state === 'up' ? lab.hosts.find((x) => `${x.address}:${x.port}` === r.primary) : undefined;
      const link = svc.link ? await svc.link.status().catch(() => null) : null;
      const nic = link?.state === 'up' ? (link.a.host === r.primary ? link.a.nic : link.b.nic) : h?.nics.find((n) => n.role === 'crossover')?.name;
      if (!nic) throw new LockstepError({ code: 'no-link', message: 'No crossover NIC is known for the primary.', fix: 'lockstep link setup A B' });
      crossoverNic = nic;
      tFault = await faultOnHost(sa, 'ip link set "$1" down', nic);
      mark(`crossover ${nic} cut on the primary`, tFault);
    }
    act = await agents.waitAction(actorRef, tFault, ACT_LIMIT_MS);
    if (act?.startedAt) mark(`${actorName}'s agent decided: ${act.action} (${act.reason})`, act.startedAt);
    if (act?.finishedAt) mark(`${actorName}'s agent: colo-failover ${act.rc === 0 ? 'done' : `failed (exit ${act.rc})`}`, act.finishedAt);
    if (act?.rc === 0) r.failedOver(ACTOR[mode] === 'secondary' ? 'secondary-took-over' : 'primary-alone', act.finishedAt ?? Date.now());
    if (mode === 'cut-crossover') {
      // the secondary's agent disarmed (degraded); its stale VM is retired so that one VM runs, then the link returns
      await svc.killVm(sb, r.vm('secondary').pid, 1000);
      mark('app retired the stale secondary VM: never two primaries');
      await sa.check(['ip', 'link', 'set', crossoverNic, 'up']);
      mark('crossover restored');
    }
  };
  try {
    await inject();
  } catch (e) {
    meter.endIn(0);
    await meter.done.catch(() => undefined);
    throw e;
  }
  const handledAt = Date.now() - startedAt;
  meter.endIn(Math.max(plannedEnd - Date.now(), AFTER_HANDLED_MS));
  const m = await meter.done;
  const after = await svc.status();
  return finish(svc, drills, { mode, r, lab, startedAt, tFault, handledAt, act, actorName, m, timeline, reasons, before, after, expected: EXPECTED[mode] });
}
