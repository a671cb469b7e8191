// `npm run bench`: figures as `name: value` lines, plus bench-results.json and a markdown table.
// Each figure is measured in this run; run `npm run build` first (done here if needed).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cliBin = join(root, 'dist/main/transports/cli/bin.js');
const only = process.argv.slice(2);
const results = {};

function report(name, value, unit = '') {
  results[name] = value;
  console.log(`${name}: ${typeof value === 'number' ? Math.round(value * 1000) / 1000 : value}${unit ? ` ${unit}` : ''}`);
}
const want = (group) => only.length === 0 || only.includes(group);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!existsSync(join(root, 'dist/.built'))) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

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
  report('ui_event_to_screen_ms_p50', lat[Math.floor(lat.length / 2)]);
  ws.close();
  await browser.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(home, { recursive: true, force: true });
}

async function labUp(flavour) {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-lab-'));
  const prefix = flavour === 'kernel' ? 'lbk' : 'lb';
  const env = { LOCKSTEP_HOME: home, LOCKSTEP_LAB_PREFIX: prefix, LOCKSTEP_LAB_NET: flavour === 'kernel' ? '198.18.96' : '198.18.95' };
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
  report(`lab_up_seconds_${flavour}`, median(samples));
  report(`lab_host_memory_mib_${flavour}`, mem);
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

if (want('app')) {
  await appStart();
  await uiEventToScreen();
}
if (want('hosts')) await hostsBench();
if (want('lab')) {
  await labUp('namespaces');
  await labUp('kernel');
}

writeFileSync(join(root, 'bench-results.json'), JSON.stringify(results, null, 2) + '\n');
const table = ['| figure | value |', '|---|---|', ...Object.entries(results).map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
writeFileSync(join(root, 'bench-results.md'), table + '\n');
