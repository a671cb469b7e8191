// `npm run bench`: figures as `name: value` lines, plus bench-results.json and a markdown table.
// Each figure is measured in this run; run `npm run build` first (done here if needed).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { lockstepBench } from './lockstep-bench.mjs';
import { maintenanceBench } from './maintenance-bench.mjs';
import { fullCopyBench, pairDiskBench } from './pair-disk-bench.mjs';
import { mirrorTierBench } from './mirror-tier-bench.mjs';
import { besideDemo, userVmBench } from './user-vm-bench.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cliBin = join(root, 'dist/main/transports/cli/bin.js');
const only = process.argv.slice(2);
const results = {};

function reportFigure(name, value, unit = '') {
  results[name] = value;
  console.log(`${name}: ${typeof value === 'number' ? Math.round(value * 1000) / 1000 : value}${unit ? ` ${unit}` : ''}`);
}
const report = reportFigure;
const want = (group) => only.length === 0 || only.includes(group);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!existsSync(join(root, 'dist/.built'))) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

/** Resident memory of a process, from /proc (MiB). */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : null;
}

function cli(args, env) {
  return spawnSync(process.execPath, [cliBin, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600_000 });
}

async function appStart() {
  const samples = [];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  for (let i = 0; i < 5; i++) {
    const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-'));
    const t0 = performance.now();
    const child = spawn(process.execPath, [cliBin, 'serve', '--no-open'], {
      env: { ...process.env, LOCKSTEP_HOME: home },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /LOCKSTEP_URL=(\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
    });
    const page = await browser.newPage();
    await page.goto(url);
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor();
    samples.push(performance.now() - t0);
    await page.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(home, { recursive: true, force: true });
  }
  await browser.close();
  report('app_start_to_interactive_ms', median(samples));
}

/** Proportional set size (MiB) of every process in a network namespace. */
function netnsPssMiB(ns) {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch {
      // exited
    }
  }
  return kib / 1024;
}

/** An event from the core until it is on screen: a note sent over the WebSocket, seen by a MutationObserver. */
async function uiEventToScreen() {
  const { default: WebSocket } = await import('ws');
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-ui-'));
  const child = spawn(process.execPath, [cliBin, 'serve', '--no-open'], { env: { ...process.env, LOCKSTEP_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /LOCKSTEP_URL=(\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await browser.newPage();
  await page.goto(url);
  await page.getByRole('button', { name: 'Events' }).click();
  await page.locator('[data-testid="event-log"]').waitFor();
  await page.evaluate(() => {
    window.__seen = {};
    new MutationObserver(() => {
      for (const li of document.querySelectorAll('[data-testid="event-log"] li')) {
        const m = /bench-(\d+)/.exec(li.textContent ?? '');
        if (m && !(m[1] in window.__seen)) window.__seen[m[1]] = Date.now();
      }
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  const u = new URL(url);
  const token = /token=([^&]+)/.exec(u.hash)[1];
  const ws = new WebSocket(`ws://${u.host}/api?token=${token}`);
  await new Promise((r) => ws.once('open', r));
  const sent = {};
  for (let i = 0; i < 60; i++) {
    sent[i] = Date.now();
    ws.send(JSON.stringify({ id: i, cmd: 'events.note', input: { message: `bench-${i}` } }));
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const seen = await page.evaluate(() => window.__seen);
  const lat = Object.keys(sent)
    .filter((k) => k in seen)
    .map((k) => seen[k] - sent[k])
    .sort((a, b) => a - b);
  if (lat.length < 55) throw new Error(`only ${lat.length} of 60 events reached the screen`);
  report('ui_event_to_screen_ms_p95', lat[Math.floor(lat.length * 0.95)]);
  report('app_server_rss_mib', rssMiB(child.pid));
  report('ui_event_to_screen_ms_p50', lat[Math.floor(lat.length / 2)]);
  ws.close();
  await browser.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(home, { recursive: true, force: true });
}

/** Kernel host kinds this machine can run: QEMU always, user-mode Linux where its boot test passes. */
function kernelKinds() {
  const uml = spawnSync('bash', [join(root, 'native/lab/uml/can-run.sh')], { encoding: 'utf8', timeout: 60_000 });
  const ok = uml.stdout.trim() === 'ok';
  if (!ok) console.log(`(user-mode Linux cannot run here: ${uml.stdout.trim()}; kernel figures for QEMU hosts only)`);
  const kinds = ok ? ['uml', 'vm'] : ['vm'];
  // BENCH_KERNEL=uml|vm: only that kind (where it can run)
  const only = process.env.BENCH_KERNEL;
  return only ? kinds.filter((k) => k === only) : kinds;
}

async function labUp(flavour, kind) {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-lab-'));
  const prefix = flavour === 'kernel' ? 'lbk' : 'lb';
  const env = {
    LOCKSTEP_HOME: home,
    LOCKSTEP_LAB_PREFIX: prefix,
    LOCKSTEP_LAB_NET: flavour === 'kernel' ? '198.18.96' : '198.18.95',
    ...(kind ? { LOCKSTEP_LAB_KERNEL: kind } : {}),
  };
  cli(['lab', 'down'], env);
  const samples = [];
  let mem = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = cli(['lab', 'up', '--json', ...(flavour === 'kernel' ? ['--kernel'] : [])], env);
    if (!JSON.parse(r.stdout).ok) throw new Error(r.stdout);
    samples.push((performance.now() - t0) / 1000);
    await new Promise((res) => setTimeout(res, 2000));
    mem = flavour === 'kernel' ? netnsPssMiB(`${prefix}-wire`) / 2 : (netnsPssMiB(`${prefix}-hostA`) + netnsPssMiB(`${prefix}-hostB`)) / 2;
    cli(['lab', 'down'], env);
  }
  const name = kind ? `${flavour}_${kind}` : flavour;
  report(`lab_up_seconds_${name}`, median(samples));
  report(`lab_host_memory_mib_${name}`, mem);
  rmSync(home, { recursive: true, force: true });
}

async function hostsBench() {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-hosts-'));
  const env = { LOCKSTEP_HOME: home, LOCKSTEP_LAB_PREFIX: 'lbh', LOCKSTEP_LAB_NET: '198.18.99' };
  cli(['lab', 'down'], env);
  if (!JSON.parse(cli(['lab', 'up', '--json'], env).stdout).ok) throw new Error('lab up failed');
  const d = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = JSON.parse(cli(['hosts', 'discover', '--cidr', '198.18.99.0/24', '--json'], env).stdout);
    if (!r.ok || r.value.candidates.length !== 2) throw new Error('discovery did not find the two lab hosts');
    d.push((performance.now() - t0) / 1000);
  }
  report('discover_24_seconds', median(d));
  cli(['hosts', 'add-lab'], env);
  const p = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    if (!JSON.parse(cli(['preflight', 'run', 'hostA', 'hostB', '--json'], env).stdout).ok) throw new Error('preflight failed');
    p.push((performance.now() - t0) / 1000);
  }
  report('preflight_pair_seconds', median(p));
  cli(['lab', 'down'], env);
  rmSync(home, { recursive: true, force: true });
}

/**
 * The replication link and the DRBD mirror on kernel lab hosts: link figures, the initial sync
 * against the link, and re-protection after a pulled plug (resync / data written while apart,
 * the returning host's activity-log extents reported separately).
 */
async function mirrorBench(kind) {
  const { SshSession } = await import(join(root, 'dist/main/hosts/ssh-session.js'));
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-mirror-'));
  const prefix = 'lbm';
  const env = { LOCKSTEP_HOME: home, LOCKSTEP_LAB_PREFIX: prefix, LOCKSTEP_LAB_NET: '198.18.85', LOCKSTEP_LAB_KERNEL: kind };
  const report = (name, value) => reportFigure(`${name}_${kind}`, value);
  const j = (args) => {
    const r = cli([...args, '--json'], env);
    const v = JSON.parse(r.stdout || '{}');
    if (!v.ok) throw new Error(`lockstep ${args.join(' ')}: ${JSON.stringify(v.error ?? r.stderr)}`);
    return v.value;
  };
  const lastEvent = (query, key) =>
    j(['events', 'list', '--query', query, '--limit', '200'])
      .filter((e) => e.data && e.data[key] != null)
      .pop();
  cli(['lab', 'down'], env);
  try {
    const lab = j(['lab', 'up', '--kernel']);
    const [A, B] = lab.hosts;
    const sh = async (h, script, ...args) => {
      const s = await SshSession.connect({ address: h.address, port: h.port, user: 'root', keyFile: lab.keyFile, fingerprint: h.fingerprint });
      try {
        return await s.check(['sh', '-c', script, 'sh', ...args], { timeoutMs: 120_000 });
      } finally {
        s.dispose();
      }
    };
    j(['hosts', 'add-lab']);
    const link = j(['link', 'setup', 'hostA', 'hostB']);
    report('link_rtt_p50_ms', link.measured.rttP50Ms);
    report('link_rtt_p99_ms', link.measured.rttP99Ms);
    report('link_mib_s', link.measured.mibPerSec);
    // what the backing disk itself takes (the sync cannot beat it): zeros keep the blank disk blank
    const dd = await sh(B, 'dd if=/dev/zero of="$1" bs=1M count=128 oflag=direct 2>&1 | tail -1', B.dataDisk);
    const m = /([\d.]+) s, /.exec(dd);
    if (m) report('backing_disk_write_mib_s', 128 / Number(m[1]));
    j(['mirror', 'setup']);
    const initial = lastEvent('Initial sync of', 'initial_sync_mib_s').data;
    report('initial_sync_mib_s', initial.initial_sync_mib_s);
    report('sync_rate_over_link_ratio', initial.sync_rate_over_link_ratio);
    // pull the plug on the primary, promote the survivor, write 8 MiB there, bring the old primary back
    const write = 'yes "$1" | head -c "$2" | dd of=/dev/drbd0 bs=1M seek="$3" iflag=fullblock oflag=direct status=none';
    await sh(A, write, 'bench-1', String(32 * 1024 * 1024), '0');
    // let that SSH connection finish closing: a half-closed socket reset by the rebooted host
    // would surface as an unhandled error (SshSession keeps no error listener after connect)
    await new Promise((r) => setTimeout(r, 1500));
    j(['lab', 'power', 'hostA', 'off']); // its kernel killed: a pulled plug
    j(['mirror', 'switch', 'hostB']);
    const writtenKiB = 8 * 1024;
    await sh(B, write, 'bench-2', String(writtenKiB * 1024), '64');
    j(['lab', 'power', 'hostA', 'on']); // boots again with its data disk
    j(['link', 'setup', 'hostA', 'hostB']);
    const t0 = performance.now();
    j(['mirror', 'setup']);
    report('mirror_reprotect_seconds', (performance.now() - t0) / 1000);
    const r = lastEvent('Resync of', 'resyncKiB').data;
    report('reprotect_resync_ratio', (r.resyncKiB - (r.targetBitmapKiB ?? 0)) / writtenKiB);
    report('reprotect_resync_raw_ratio', r.resyncKiB / writtenKiB);
    report('reprotect_al_mib', (r.targetBitmapKiB ?? 0) / 1024);
  } finally {
    cli(['lab', 'down'], env);
    rmSync(home, { recursive: true, force: true });
  }
}

if (want('app')) {
  await appStart();
  await uiEventToScreen();
}
if (want('hosts')) await hostsBench();
const kinds = want('lab') || want('mirror') || want('pairdisk') || want('mirrortier') ? kernelKinds() : [];
if (want('lab')) {
  await labUp('namespaces');
  for (const k of kinds) await labUp('kernel', k);
}
// DRBD figures on each kind of kernel host (QEMU hosts on every machine)
if (want('mirror')) for (const k of kinds) await mirrorBench(k);
// the guest's disk under the pair: DRBD's seed and incremental re-protect (≥ 1 GiB), beside a full copy
if (want('pairdisk')) for (const k of kinds) await pairDiskBench({ root, cliBin, report, kind: k });
// the Mirror tier: Pacemaker restarts the demo guest (VM killed, host powered off), DRBD resyncs the returned host
// (user-mode Linux hosts only: on QEMU kernel hosts the guest is TCG inside TCG and does not answer within minutes, see test/lab/cluster.spec.ts)
if (want('mirrortier')) {
  if (!kinds.includes('uml')) console.log('(mirror tier figures skipped: they need user-mode Linux kernel hosts, which cannot run here)');
  for (const k of kinds.filter((x) => x === 'uml')) await mirrorTierBench({ root, cliBin, report, kind: k });
}
// only the full-copy half (namespace hosts): `node test/bench/run.mjs fullcopy`
if (want('fullcopy')) await fullCopyBench({ cliBin, report });
if (want('lockstep')) await lockstepBench({ cliBin, report, drills: Number(process.env.BENCH_DRILLS ?? 5) });
if (want('uservm')) {
  await userVmBench({ cliBin, report, drills: Number(process.env.BENCH_USER_VM_DRILLS ?? 1) });
  besideDemo(results);
}
if (want('maintenance')) await maintenanceBench({ cliBin, report, cycles: Number(process.env.BENCH_MAINTENANCE_CYCLES ?? 2) });
if (want('long')) longScenarios();

/**
 * The long fault stories kept out of `npm test` for CI's time budget (test/long): run here as tests
 * (they pass or fail like any other), their count reported as a figure.
 */
function longScenarios() {
  const out = mkdtempSync(join(tmpdir(), 'lockstep-long-'));
  const file = join(out, 'report.json');
  const t0 = Date.now();
  const r = spawnSync('npx', ['vitest', 'run', '--project', 'long', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`], {
    cwd: root,
    stdio: 'inherit',
  });
  let passed = 0;
  let total = 0;
  try {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    passed = j.numPassedTests;
    total = j.numTotalTests;
  } catch {
    total = 1;
  }
  rmSync(out, { recursive: true, force: true });
  report('long_scenarios_passed', `${passed}/${total}`);
  report('long_scenarios_seconds', (Date.now() - t0) / 1000, 's');
  if (r.status !== 0) process.exitCode = 1;
}

writeFileSync(join(root, 'bench-results.json'), JSON.stringify(results, null, 2) + '\n');
const table = ['| figure | value |', '|---|---|', ...Object.entries(results).map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
writeFileSync(join(root, 'bench-results.md'), table + '\n');
