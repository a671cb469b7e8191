#!/usr/bin/env node
// Client-side checks of the demo guest, used by selftest.sh (plain Node, no dependencies).
// Every command prints one JSON object on stdout and exits 1 when its check fails.
//
//   wait-http URL TIMEOUT_MS [LOG NTH]       poll until the first valid answer: {ms, answer};
//                                            markerMs: when the NTH ready line reached LOG
//   poll URL COUNT INTERVAL_MS [CLIENTS]     CLIENTS sequential pollers side by side; each must
//                                            see strictly increasing counts, all counts distinct
//                                            (SIGTERM stops early and still reports)
//   stream HOST PORT SECONDS                 hold the port 7000 stream, check seq/count/gaps
//   serial SOCKET COMMAND REGEX TIMEOUT_MS   type COMMAND on the serial console, await REGEX
//   config GUEST_JSON ARGS_FILE              run-local.sh --print-args matches guest.json
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';

const [, , cmd, ...args] = process.argv;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const done = (ok, value) => {
  process.stdout.write(JSON.stringify({ ok, ...value }) + '\n');
  process.exit(ok ? 0 : 1);
};

/** One GET: resolves {count, boot, host, ms} or rejects with the reason. */
function get(url, timeoutMs = 3000) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        const ms = performance.now() - started;
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}: ${body.trim()}`));
        if (!/^application\/json/.test(res.headers['content-type'] ?? '')) return reject(new Error('not JSON'));
        let v;
        try { v = JSON.parse(body); } catch { return reject(new Error(`bad JSON: ${body}`)); }
        if (!Number.isSafeInteger(v.count) || typeof v.boot !== 'string' || typeof v.host !== 'string') {
          return reject(new Error(`bad answer: ${body}`));
        }
        resolve({ ...v, ms });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const pct = (xs, p) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
};

/** Polls until the first valid answer; with LOG and NTH also notes when the NTH ready line
 * appears in the serial log (both in ms from the start of this command). */
async function waitHttp(url, timeoutMs, log, nth) {
  const t0 = performance.now();
  let last = '', attempts = 0, markerMs = null;
  const marker = log && setInterval(() => {
    let text = '';
    try { text = fs.readFileSync(log, 'utf8'); } catch { return; }
    if ((text.match(/^lockstep-guest ready/gm) ?? []).length >= nth) {
      markerMs = Math.round(performance.now() - t0);
      clearInterval(marker);
    }
  }, 20);
  while (performance.now() - t0 < timeoutMs) {
    attempts++;
    try {
      const answer = await get(url, 1000);
      if (marker) clearInterval(marker);
      return done(true, { ms: Math.round(performance.now() - t0), markerMs, attempts, lastError: last, answer });
    } catch (e) { last = e.message; }
    await sleep(50);
  }
  if (marker) clearInterval(marker);
  done(false, { ms: Math.round(performance.now() - t0), markerMs, attempts, error: `no answer: ${last}` });
}

// SIGTERM ends a poll early; it still reports what it saw (used to kill the guest mid-poll).
let stopped = false;
process.on('SIGTERM', () => (stopped = true));

async function pollOne(url, count, intervalMs) {
  const r = { ok: 0, errors: [], counts: [], boots: new Set(), lat: [], nonIncreasing: 0 };
  for (let i = 0; i < count && !stopped; i++) {
    const next = performance.now() + intervalMs;
    try {
      const v = await get(url);
      if (r.counts.length && v.count <= r.counts[r.counts.length - 1]) r.nonIncreasing++;
      r.counts.push(v.count); r.boots.add(v.boot); r.lat.push(v.ms); r.ok++;
    } catch (e) { r.errors.push(e.message); }
    await sleep(Math.max(0, next - performance.now()));
  }
  return r;
}

async function poll(url, count, intervalMs, clients) {
  const t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: clients }, () => pollOne(url, count, intervalMs)));
  const all = rs.flatMap((r) => r.counts);
  const distinct = new Set(all).size;
  const min = Math.min(...all), max = Math.max(...all);
  const lat = rs.flatMap((r) => r.lat);
  const errors = rs.flatMap((r) => r.errors);
  const nonIncreasing = rs.reduce((a, r) => a + r.nonIncreasing, 0);
  const value = {
    clients, requests: stopped ? undefined : count * clients, stopped, answered: all.length, errors: errors.length,
    errorSamples: [...new Set(errors)].slice(0, 3),
    first: all.length ? rs[0].counts[0] : null, min, max,
    duplicates: all.length - distinct, nonIncreasing,
    // counts consumed but never seen by these clients (0 = every increment was answered)
    unseen: all.length ? max - min + 1 - distinct : 0,
    boots: [...new Set(rs.flatMap((r) => [...r.boots]))],
    latencyMs: { p50: pct(lat, 50), p95: pct(lat, 95), max: pct(lat, 100) },
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  done(errors.length === 0 && nonIncreasing === 0 && value.duplicates === 0, value);
}

function stream(host, port, seconds) {
  const lines = [];
  let buf = '', lastAt = null, maxGap = 0, error = null;
  const sock = net.connect({ host, port });
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    const now = performance.now();
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1);
      if (lastAt !== null) maxGap = Math.max(maxGap, now - lastAt);
      lastAt = now;
      lines.push(line);
    }
  });
  sock.on('error', (e) => (error = e.message));
  sock.on('close', () => { if (!error && !finished) error = 'closed by the guest'; });
  let finished = false;
  setTimeout(() => {
    finished = true;
    sock.destroy();
    const parsed = lines.map((l) => Object.fromEntries(l.split(' ').map((kv) => kv.split('='))));
    const bad = parsed.filter((p) => !/^\d+$/.test(p.seq ?? '') || !/^\d+$/.test(p.count ?? ''));
    let seqBreaks = 0, countBackwards = 0;
    for (let i = 1; i < parsed.length; i++) {
      if (Number(parsed[i].seq) !== Number(parsed[i - 1].seq) + 1) seqBreaks++;
      if (Number(parsed[i].count) < Number(parsed[i - 1].count)) countBackwards++;
    }
    const value = {
      seconds, lines: lines.length, malformed: bad.length, seqBreaks, countBackwards,
      firstLine: lines[0] ?? null, lastLine: lines[lines.length - 1] ?? null,
      counts: parsed.length ? [parsed[0].count, parsed[parsed.length - 1].count] : null,
      maxGapMs: Math.round(maxGap), error,
    };
    done(!error && lines.length >= seconds * 5 && bad.length === 0 && seqBreaks === 0 && countBackwards === 0, value);
  }, seconds * 1000);
}

function serial(path, command, regex, timeoutMs) {
  const re = new RegExp(regex, 'm');
  let out = '';
  const sock = net.connect({ path });
  const timer = setTimeout(() => { sock.destroy(); done(false, { error: 'timeout', output: out.slice(-2000) }); }, timeoutMs);
  sock.setEncoding('utf8');
  sock.on('connect', () => sock.write(command + '\n'));
  sock.on('data', (d) => {
    out += d.replace(/\r/g, '');
    const m = out.match(re);
    if (m) { clearTimeout(timer); sock.destroy(); done(true, { match: m[0] }); }
  });
  sock.on('error', (e) => { clearTimeout(timer); done(false, { error: e.message }); });
}

/** Every QEMU argument guest.json prescribes is in run-local.sh's command (one per line). */
function config(guestJson, argsFile) {
  const g = JSON.parse(fs.readFileSync(guestJson, 'utf8'));
  const argv = fs.readFileSync(argsFile, 'utf8').split('\n');
  const esc = (s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const wanted = [...g.accel.tcg, ...g.qemu.args].map((a) => a.replace('{memory}', g.memory));
  const missing = wanted.filter((a) => {
    const re = new RegExp('^' + esc(a).replace(/\\?\{[a-z]+\\?\}/g, '.*') + '$');
    return !argv.some((w) => re.test(w));
  });
  const append = argv[argv.indexOf('-append') + 1] ?? '';
  for (const k of g.kernel.requiredArgs) if (!append.split(' ').includes(k)) missing.push(`kernel arg ${k}`);
  done(missing.length === 0, { checked: wanted.length, missing });
}

const n = Number;
switch (cmd) {
  case 'wait-http': await waitHttp(args[0], n(args[1] ?? 60000), args[2], n(args[3] ?? 1)); break;
  case 'poll': await poll(args[0], n(args[1] ?? 500), n(args[2] ?? 10), n(args[3] ?? 1)); break;
  case 'stream': stream(args[0], n(args[1] ?? 7000), n(args[2] ?? 10)); break;
  case 'serial': serial(args[0], args[1], args[2], n(args[3] ?? 10000)); break;
  case 'config': config(args[0], args[1]); break;
  default:
    process.stderr.write('usage: check.mjs wait-http|poll|stream|serial|config ... (see the header)\n');
    process.exit(2);
}
