#!/usr/bin/env node
// colo-smoke.mjs: drives one QEMU 7.2 COLO pair under TCG (LAB ONLY), no dependencies.
//   node colo-smoke.mjs drive   (normally via colo-smoke.sh run, which sets up the network)
//   node colo-smoke.mjs probe   (internal: the client, run inside the client namespace)
// It is the executable form of COLO-RECIPE.md: command lines, QMP sequence, drill, figures.
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = process.env;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6; // CLOCK_MONOTONIC, shared by processes
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const num = (v, d) => (v === undefined || v === '' ? d : Number(v));

// ---------------------------------------------------------------- configuration
// Defaults for the demo guest come from native/guest/guest.json when it is there.
const guest = (() => {
  try {
    return JSON.parse(fs.readFileSync(env.GUEST_JSON ?? '', 'utf8'));
  } catch {
    return {};
  }
})();
const guestIp = env.GUEST_IP ?? '10.98.0.10';
const defaultAppend = [
  ...(guest.kernel?.requiredArgs ?? ['console=ttyS0']),
  ...(guest.kernel?.defaultArgs ?? []),
  `guest_ip=${guestIp}/24`,
  'guest_stream_time=0', // the stream must not carry per-side data (uptime), or every line miscompares
].join(' ');
const cfg = {
  work: env.WORK ?? '/work/tmp/colo/run',
  qemu: env.QEMU ?? 'qemu-system-x86_64',
  shim: env.SHIM ?? '', // 'none': run without the shim (control experiment: expect the deadlock)
  guestDir: env.GUEST_DIR ?? '',
  append: env.GUEST_APPEND || defaultAppend,
  guestIp,
  mac: env.GUEST_MAC ?? guest.defaultMac ?? '52:54:00:4c:53:01', // identical on both sides
  ram: env.RAM ?? '131080k', // NOT a multiple of 256 KiB: works around the TCG dirty-bitmap bug
  nsA: env.NS_A ?? 'lsc-a',
  nsB: env.NS_B ?? 'lsc-b',
  nsC: env.NS_C ?? 'lsc-c',
  xa: env.XA ?? '10.99.0.1',
  xb: env.XB ?? '10.99.0.2', // crossover: A = primary, B = secondary
  migPort: num(env.MIG_PORT, 9998),
  nbdPort: num(env.NBD_PORT, 9999),
  mirrorPort: num(env.MIRROR_PORT, 9003),
  comparePort: num(env.COMPARE_PORT, 9004),
  cmp0Port: num(env.CMP0_PORT, 9001),
  cmpOutPort: num(env.CMPOUT_PORT, 9005),
  checkpointDelay: num(env.CHECKPOINT_DELAY, 2000),
  coloSeconds: num(env.COLO_SECONDS, 120), // COLO soak before the kill (probe runs throughout)
  postSeconds: num(env.POST_SECONDS, 15), // probing after the failover
  bootTimeoutS: num(env.BOOT_TIMEOUT, 120),
  httpPort: num(env.HTTP_PORT, 80),
  streamPort: num(env.STREAM_PORT, 7000),
  httpIntervalMs: num(env.HTTP_INTERVAL_MS, 10),
  httpTimeoutMs: num(env.HTTP_TIMEOUT_MS, 1000),
  failover: env.FAILOVER ?? 'kill-primary', // or 'none'
  mode: env.MODE ?? 'cold', // cold: secondary + paused primary, COLO from boot; live: protect a running guest
  probe: env.PROBE ?? 'http,stream', // which client loads run: http, stream, both or 'none'
};
const P = (f) => path.join(cfg.work, f);

// ---------------------------------------------------------------- tiny QMP client
class Qmp {
  constructor(name, sock, journal) {
    Object.assign(this, { name, sock, journal });
    this.nextId = 1;
    this.pending = new Map();
    this.events = [];
    this.buf = '';
  }
  async connect({ oob = false, timeoutMs = 30000 } = {}) {
    const t0 = nowMs();
    this.oob = oob; // the OOB connection sees the same events: journal them once
    for (;;) {
      try {
        this.s = await new Promise((res, rej) => {
          const s = net.createConnection(this.sock, () => res(s));
          s.once('error', rej);
        });
        break;
      } catch (e) {
        if (nowMs() - t0 > timeoutMs) throw new Error(`${this.name}: QMP ${this.sock}: ${e.message}`);
        await sleep(50);
      }
    }
    this.greeting = new Promise((res) => (this.onGreeting = res));
    this.s.on('data', (d) => this.onData(d));
    this.s.on('error', () => {});
    this.s.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error(`${this.name}: QMP connection closed`));
      this.pending.clear();
    });
    await this.greeting;
    await this.cmd('qmp_capabilities', oob ? { enable: ['oob'] } : undefined);
  }
  onData(d) {
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      const m = JSON.parse(line);
      if (m.QMP) this.onGreeting(m);
      else if (m.event) {
        m.t = nowMs();
        this.events.push(m);
        if (!this.oob) this.journal({ who: this.name, event: m.event, data: m.data });
      } else if (m.id !== undefined && this.pending.has(m.id)) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        m.error ? p.reject(Object.assign(new Error(`${this.name}: ${p.execute}: ${m.error.desc}`), { qmp: m.error })) : p.resolve(m.return);
      }
    }
  }
  // Every call has a deadline: a hung peer must never hang the driver.
  cmd(execute, args, { timeoutMs = 10000, oob = false, quiet = false } = {}) {
    const id = `${this.name}-${this.nextId++}`;
    const msg = { [oob ? 'exec-oob' : 'execute']: execute, id };
    if (args !== undefined) msg.arguments = args;
    const t0 = nowMs();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${execute}: timeout ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        execute,
        resolve: (r) => {
          clearTimeout(timer);
          const ms = nowMs() - t0;
          if (!quiet) this.journal({ who: this.name, execute, arguments: args, ms: +ms.toFixed(1) });
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          const ms = nowMs() - t0;
          this.journal({ who: this.name, execute, arguments: args, ms: +ms.toFixed(1), error: e.message });
          reject(e);
        },
      });
      this.s.write(JSON.stringify(msg) + '\n');
    });
  }
  async waitEvent(name, timeoutMs, since = 0) {
    const t0 = nowMs();
    for (;;) {
      const e = this.events.find((x) => x.event === name && x.t >= since);
      if (e) return e;
      if (nowMs() - t0 > timeoutMs) throw new Error(`${this.name}: no ${name} event within ${timeoutMs} ms`);
      await sleep(10);
    }
  }
  close() {
    this.s?.destroy();
  }
}

// ---------------------------------------------------------------- command lines
function commonArgs(side) {
  const g = cfg.guestDir;
  return [
    '-name',
    `lsc-${side}`,
    '-accel',
    'tcg',
    '-m',
    cfg.ram,
    '-smp',
    '1',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-vga',
    'none',
    '-kernel',
    path.join(g, 'vmlinuz'),
    '-initrd',
    path.join(g, 'initrd.img'),
    '-append',
    cfg.append,
    '-chardev',
    `socket,id=ser0,path=${P(`${side}-serial.sock`)},server=on,wait=off,logfile=${P(`${side}-serial.log`)}`,
    '-serial',
    'chardev:ser0',
    // two QMP monitors: one for the driver, one kept free for out-of-band yank
    '-chardev',
    `socket,id=qmp0,path=${P(`${side}-qmp.sock`)},server=on,wait=off`,
    '-mon',
    'chardev=qmp0,mode=control',
    '-chardev',
    `socket,id=qmp1,path=${P(`${side}-qmp-oob.sock`)},server=on,wait=off`,
    '-mon',
    'chardev=qmp1,mode=control',
    '-netdev',
    `tap,id=hn0,ifname=lsc-tap${side === 'primary' ? 'a' : 'b'},script=no,downscript=no,vhost=off,vnet_hdr=off`,
    '-device',
    `virtio-net-pci,netdev=hn0,mac=${cfg.mac},romfile=`,
    '-msg',
    'timestamp=on',
    '-trace',
    'enable=colo_*',
    '-D',
    P(`${side}-trace.log`),
  ];
}

function secondaryArgs() {
  return [
    ...commonArgs('secondary'),
    // proxy: packets mirrored by the primary come in on red0; the guest's output goes to the primary's compare via red1
    '-chardev',
    `socket,id=red0,host=${cfg.xa},port=${cfg.mirrorPort},reconnect=1`,
    '-chardev',
    `socket,id=red1,host=${cfg.xa},port=${cfg.comparePort},reconnect=1`,
    '-object',
    'filter-redirector,id=f1,netdev=hn0,queue=tx,indev=red0',
    '-object',
    'filter-redirector,id=f2,netdev=hn0,queue=rx,outdev=red1',
    '-object',
    'filter-rewriter,id=rew0,netdev=hn0,queue=all',
    // disk: parent0 = the secondary's copy of the image (NBD target); active/hidden qcow2 overlays buffer until checkpoints
    '-drive',
    `if=none,id=parent0,driver=raw,file.filename=${P('b-disk.img')}`,
    '-drive',
    [
      'if=none,id=childs0,driver=replication,mode=secondary,top-id=colo-disk0',
      `file.driver=qcow2,file.file.filename=${P('b-active.qcow2')}`,
      `file.backing.driver=qcow2,file.backing.file.filename=${P('b-hidden.qcow2')}`,
      'file.backing.backing=parent0',
    ].join(','),
    '-drive',
    'if=none,id=colo-disk0,driver=quorum,read-pattern=fifo,vote-threshold=1,children.0=childs0',
    '-device',
    'virtio-blk-pci,drive=colo-disk0',
    '-incoming',
    'defer',
  ];
}

// The primary's proxy: [id, host, port, server?]. mirror0/compare1 face the secondary over the
// crossover; compare0/compare_out are loops inside the primary (server first, then its client).
function proxyChardevs() {
  return [
    ['mirror0', cfg.xa, cfg.mirrorPort, true],
    ['compare1', cfg.xa, cfg.comparePort, true],
    ['compare0', '127.0.0.1', cfg.cmp0Port, true],
    ['compare0-0', '127.0.0.1', cfg.cmp0Port, false],
    ['compare_out', '127.0.0.1', cfg.cmpOutPort, true],
    ['compare_out0', '127.0.0.1', cfg.cmpOutPort, false],
  ];
}
// [qom-type, id, properties]: mirror the client's packets to the secondary, route the guest's
// output through colo-compare, which releases it when both sides agree.
function proxyObjects() {
  return [
    ['filter-mirror', 'm0', { netdev: 'hn0', queue: 'tx', outdev: 'mirror0' }],
    ['filter-redirector', 'redire0', { netdev: 'hn0', queue: 'rx', indev: 'compare_out' }],
    ['filter-redirector', 'redire1', { netdev: 'hn0', queue: 'rx', outdev: 'compare0' }],
    ['iothread', 'iothread1', {}],
    ['colo-compare', 'comp0', { primary_in: 'compare0-0', secondary_in: 'compare1', outdev: 'compare_out0', iothread: 'iothread1' }],
  ];
}

function primaryArgs({ live }) {
  const proxy = live
    ? [] // live protection adds the proxy over QMP at protect time
    : [
        ...proxyChardevs().flatMap(([id, host, port, server]) => [
          '-chardev',
          `socket,id=${id},host=${host},port=${port}${server ? ',server=on,wait=off' : ''}`,
        ]),
        ...proxyObjects().flatMap(([type, id, props]) => ['-object', [type, `id=${id}`, ...Object.entries(props).map(([k, v]) => `${k}=${v}`)].join(',')]),
      ];
  return [
    ...commonArgs('primary'),
    ...proxy,
    '-drive',
    `if=none,id=colo-disk0,driver=quorum,read-pattern=fifo,vote-threshold=1,children.0.driver=raw,children.0.file.filename=${P('a-disk.img')}`,
    '-device',
    'virtio-blk-pci,drive=colo-disk0',
    ...(live ? [] : ['-S']),
  ];
}

// ---------------------------------------------------------------- helpers
const journalFile = P('journal.jsonl');
let T0 = 0;
function journal(o) {
  const line = JSON.stringify({ t: +(nowMs() - T0).toFixed(1), ...o });
  fs.appendFileSync(journalFile, line + '\n');
  if (!o.quiet && o.event !== 'STOP' && o.event !== 'RESUME') console.log(line);
}
function note(msg, extra = {}) {
  journal({ note: msg, ...extra });
}

function startQemu(side, ns, args) {
  const preload = cfg.shim && cfg.shim !== 'none' ? [`LD_PRELOAD=${cfg.shim}`, 'COLO_TCG_SHIM_DEBUG=1'] : [];
  const argv = ['netns', 'exec', ns, 'env', ...preload, cfg.qemu, ...args];
  fs.writeFileSync(P(`${side}.cmdline`), ['ip', ...argv].map((a) => (/[\s,=]/.test(a) && !a.startsWith('-') ? `'${a}'` : a)).join(' ') + '\n');
  const out = fs.openSync(P(`${side}.stderr`), 'w');
  const child = spawn('ip', argv, { stdio: ['ignore', out, out] });
  child.on('exit', (code, sig) => journal({ who: side, exited: code ?? sig }));
  note(`${side} QEMU started`, { pid: child.pid });
  return child;
}

function procStats(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(st[11]) + Number(st[12]); // utime + stime
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
    return { ticks, rssMiB: +rss.toFixed(0) };
  } catch {
    return null;
  }
}

function traceCheckpoints(file) {
  // log backend with -msg timestamp=on: "PID@SEC.USEC:colo_send_message Send 'checkpoint-request' message"
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { count: 0, pauses: [] };
  }
  const ts = (l) => {
    const m = /@(\d+)\.(\d+):/.exec(l);
    return m ? Number(m[1]) * 1e3 + Number(m[2]) / 1e3 : NaN;
  };
  let count = 0,
    start = NaN;
  const pauses = [],
    starts = [];
  for (const l of text.split('\n')) {
    if (l.includes("Send 'checkpoint-request'")) {
      count++;
      start = ts(l);
      starts.push(start);
    } else if (l.includes("Receive 'vmstate-loaded'") && !Number.isNaN(start)) {
      pauses.push(ts(l) - start);
      start = NaN;
    }
  }
  const intervals = starts.slice(1).map((s, i) => s - starts[i]);
  return { count, pauses, intervals };
}
const median = (a) => {
  if (!a.length) return NaN;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
const fmt = (x) => (Number.isFinite(x) ? +x.toFixed(1) : null);

// Kernel trouble on a serial console: how many alarming lines, and the first few.
function serialTrouble(file) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {
    return { lines: 0, first: [] };
  }
  const bad = text.split('\n').filter((l) => /Oops|BUG:|general protection|list_(add|del) corruption|Kernel panic|WARNING:|soft lockup/.test(l));
  return { lines: bad.length, first: bad.slice(0, 4).map((l) => l.trim()) };
}

async function waitFor(what, fn, timeoutMs, everyMs = 100) {
  const t0 = nowMs();
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (nowMs() - t0 > timeoutMs) throw new Error(`timeout waiting for ${what}`);
    await sleep(everyMs);
  }
}

// A guest service answers once the client namespace reaches it (used to time the boot).
function tcpProbe(port) {
  try {
    execFileSync('ip', ['netns', 'exec', cfg.nsC, process.execPath, fileURLToPath(import.meta.url), 'ping', cfg.guestIp, String(port)], {
      stdio: 'ignore',
      timeout: 3000,
    });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- the drill
async function drive() {
  if (path.resolve(cfg.work) === path.resolve(cfg.guestDir)) throw new Error('WORK must not be GUEST_DIR (WORK is cleaned)');
  fs.mkdirSync(cfg.work, { recursive: true });
  for (const f of fs.readdirSync(cfg.work)) if (/\.(log|sock|jsonl|stderr|cmdline|img|qcow2)$/.test(f)) fs.rmSync(P(f));
  T0 = nowMs();
  const result = { config: { mode: cfg.mode, ram: cfg.ram, checkpointDelay: cfg.checkpointDelay, coloSeconds: cfg.coloSeconds, probe: cfg.probe } };

  // disks: the primary's image, the secondary's parent0, and overlays of exactly the image's virtual size
  const disk = path.join(cfg.guestDir, 'disk.img');
  const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', disk], { encoding: 'utf8' }));
  if (info.format !== 'raw') throw new Error(`expected a raw disk.img, got ${info.format}`);
  fs.copyFileSync(disk, P('a-disk.img'));
  if (cfg.mode === 'live') {
    fs.writeFileSync(P('b-disk.img'), ''); // blank: drive-mirror must copy the whole disk
    fs.truncateSync(P('b-disk.img'), info['virtual-size']);
  } else {
    fs.copyFileSync(disk, P('b-disk.img')); // cold start: both hosts start from identical images
  }
  for (const o of ['b-active.qcow2', 'b-hidden.qcow2']) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', P(o), String(info['virtual-size'])]);

  const procs = {};
  const cleanup = () => {
    for (const p of Object.values(procs)) {
      try {
        p.kill('SIGKILL');
      } catch {}
    }
  };
  process.on('exit', cleanup);
  try {
    const tLaunch = nowMs();
    let pri, priOob, tProtect;
    const startProbe = () => {
      const probeOut = fs.openSync(P('probe.jsonl'), 'w');
      procs.probe = spawn('ip', ['netns', 'exec', cfg.nsC, process.execPath, fileURLToPath(import.meta.url), 'probe'], {
        stdio: ['ignore', probeOut, 'inherit'],
        env: { ...env, GUEST_IP: cfg.guestIp },
      });
    };
    const waitService = async (what) => {
      await waitFor('guest HTTP', async () => tcpProbe(cfg.httpPort), cfg.bootTimeoutS * 1000, 500);
      result.start.launchToServiceMs = fmt(nowMs() - tLaunch);
      note(what, { ms: result.start.launchToServiceMs });
    };
    result.start = { mode: cfg.mode };

    if (cfg.mode === 'live') {
      // 0. live protection: the primary runs unprotected first (plain quorum drive, no proxy), with clients on it
      procs.primary = startQemu('primary', cfg.nsA, primaryArgs({ live: true }));
      pri = new Qmp('primary', P('primary-qmp.sock'), journal);
      priOob = new Qmp('primary-oob', P('primary-qmp-oob.sock'), journal);
      await pri.connect();
      await priOob.connect({ oob: true });
      await waitService('unprotected guest service reachable');
      startProbe();
      await sleep(5000); // a baseline for the client figures
      tProtect = nowMs();
      journal({ mark: 'protect-start' });
    }

    // 1. secondary: -incoming defer, NBD server, then listen for the migration
    procs.secondary = startQemu('secondary', cfg.nsB, secondaryArgs());
    const sec = new Qmp('secondary', P('secondary-qmp.sock'), journal);
    const secOob = new Qmp('secondary-oob', P('secondary-qmp-oob.sock'), journal);
    await sec.connect();
    await secOob.connect({ oob: true });
    await sec.cmd('migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }] });
    await sec.cmd('nbd-server-start', { addr: { type: 'inet', data: { host: cfg.xb, port: String(cfg.nbdPort) } } });
    await sec.cmd('nbd-server-add', { device: 'parent0', writable: true });
    await sec.cmd('migrate-incoming', { uri: `tcp:${cfg.xb}:${cfg.migPort}` });

    const proxyConnected = () =>
      waitFor(
        'secondary connected to mirror0 and compare1',
        async () => {
          const cds = await pri.cmd('query-chardev', undefined, { quiet: true });
          const open = (id) => {
            const c = cds.find((x) => x.label === id);
            return c && !c.filename.startsWith('disconnected');
          };
          return open('mirror0') && open('compare1');
        },
        15000,
      );

    if (cfg.mode === 'live') {
      // 2L. proxy sockets over QMP (filters come later: on a running primary they would hold its output)
      for (const [id, host, port, server] of proxyChardevs()) {
        await pri.cmd('chardev-add', {
          id,
          backend: { type: 'socket', data: { addr: { type: 'inet', data: { host, port: String(port) } }, server, ...(server ? { wait: false } : {}) } },
        });
      }
      await proxyConnected();
      note("secondary connected to the primary's proxy sockets");
      // full copy of the disk to the secondary's parent0 while the guest runs
      const tMirror = nowMs();
      await pri.cmd('drive-mirror', {
        device: 'colo-disk0',
        'job-id': 'resync',
        target: `nbd://${cfg.xb}:${cfg.nbdPort}/parent0`,
        mode: 'existing',
        format: 'raw',
        sync: 'full',
      });
      await pri.waitEvent('BLOCK_JOB_READY', 120000, tMirror);
      const tStop = nowMs();
      await pri.cmd('stop');
      await pri.cmd('block-job-cancel', { device: 'resync' });
      await waitFor('mirror job gone', async () => (await pri.cmd('query-block-jobs', undefined, { quiet: true })).length === 0, 10000, 10);
      await pri.cmd('blockdev-add', {
        driver: 'replication',
        'node-name': 'replication0',
        mode: 'primary',
        file: { driver: 'nbd', 'node-name': 'nbd0', export: 'parent0', server: { type: 'inet', host: cfg.xb, port: String(cfg.nbdPort) } },
      });
      await pri.cmd('x-blockdev-change', { parent: 'colo-disk0', node: 'replication0' });
      for (const [type, id, props] of proxyObjects()) await pri.cmd('object-add', { 'qom-type': type, id, ...props });
      await pri.cmd('migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }] });
      await pri.cmd('migrate-set-parameters', { 'x-checkpoint-delay': cfg.checkpointDelay });
      const tMigrate = nowMs();
      await pri.cmd('migrate', { uri: `tcp:${cfg.xb}:${cfg.migPort}` });
      await waitFor('primary status colo', async () => (await pri.cmd('query-migrate', undefined, { quiet: true })).status === 'colo', 60000, 20);
      const tColo = nowMs();
      const resume = await pri.waitEvent('RESUME', 30000, tStop);
      result.protect = {
        totalMs: fmt(tColo - tProtect),
        mirrorMs: fmt(tStop - tMirror),
        migrateToColoMs: fmt(tColo - tMigrate),
        guestPausedMs: fmt(resume.t - tStop), // 'stop' until COLO resumed the VM
      };
      note('protected', result.protect);
    } else {
      // 2C. cold start: primary paused (-S) with the proxy on its command line; the secondary reconnects to it
      procs.primary = startQemu('primary', cfg.nsA, primaryArgs({ live: false }));
      pri = new Qmp('primary', P('primary-qmp.sock'), journal);
      priOob = new Qmp('primary-oob', P('primary-qmp-oob.sock'), journal);
      await pri.connect();
      await priOob.connect({ oob: true });
      await proxyConnected();
      note("secondary connected to the primary's proxy sockets");
      await pri.cmd('human-monitor-command', {
        'command-line': `drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=${cfg.xb},file.port=${cfg.nbdPort},file.export=parent0,node-name=replication0`,
      });
      await pri.cmd('x-blockdev-change', { parent: 'colo-disk0', node: 'replication0' });
      await pri.cmd('migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }] });
      await pri.cmd('migrate-set-parameters', { 'x-checkpoint-delay': cfg.checkpointDelay });
      const tMigrate = nowMs();
      await pri.cmd('migrate', { uri: `tcp:${cfg.xb}:${cfg.migPort}` });
      await waitFor('primary status colo', async () => (await pri.cmd('query-migrate', undefined, { quiet: true })).status === 'colo', 60000, 50);
      result.start.migrateToColoMs = fmt(nowMs() - tMigrate);
      result.start.launchToColoMs = fmt(nowMs() - tLaunch);
    }
    const tColo = nowMs();
    await waitFor(
      'both COLO modes',
      async () => {
        const [a, b] = await Promise.all([pri.cmd('query-colo-status', undefined, { quiet: true }), sec.cmd('query-colo-status', undefined, { quiet: true })]);
        return a.mode === 'primary' && b.mode === 'secondary' ? [a, b] : undefined;
      },
      30000,
      20,
    );
    result.start.coloToBothModesMs = fmt(nowMs() - tColo);
    note('COLO running', result.start);

    if (cfg.mode !== 'live') {
      // 3. the guest boots inside COLO (cold start); then the client starts
      await waitService('guest service reachable');
      startProbe();
    }
    const cpu0 = { p: procStats(procs.primary.pid), s: procStats(procs.secondary.pid), t: nowMs() };
    const tSoak = nowMs();
    const soakEnd = tSoak + cfg.coloSeconds * 1000;
    let lastCount = -1,
      lastChange = nowMs();
    while (nowMs() < soakEnd) {
      await sleep(5000);
      const c = traceCheckpoints(P('primary-trace.log'));
      const [a, b] = await Promise.all([pri.cmd('query-colo-status', undefined, { quiet: true }), sec.cmd('query-colo-status', undefined, { quiet: true })]);
      journal({ soak: true, checkpoints: c.count, primary: a.mode, secondary: b.mode });
      if (procs.primary.exitCode !== null || procs.secondary.exitCode !== null) throw new Error('a QEMU died during the soak');
      if (c.count !== lastCount) {
        lastCount = c.count;
        lastChange = nowMs();
      } else if (nowMs() - lastChange > 5 * cfg.checkpointDelay + 5000) {
        throw new Error(`checkpoints stalled at ${c.count} (the TCG deadlock? see COLO-RECIPE.md)`);
      }
    }
    const cpu1 = { p: procStats(procs.primary.pid), s: procStats(procs.secondary.pid), t: nowMs() };
    const hz = 100,
      secs = (cpu1.t - cpu0.t) / 1000;
    const ck = traceCheckpoints(P('primary-trace.log'));
    result.colo = {
      checkpoints: ck.count,
      intervalMedianMs: fmt(median(ck.intervals)),
      pauseMedianMs: fmt(median(ck.pauses)),
      pauseMaxMs: fmt(Math.max(...ck.pauses)),
      cpuPrimaryPct: fmt(((cpu1.p.ticks - cpu0.p.ticks) / hz / secs) * 100),
      cpuSecondaryPct: fmt(((cpu1.s.ticks - cpu0.s.ticks) / hz / secs) * 100),
      rssPrimaryMiB: cpu1.p.rssMiB,
      rssSecondaryMiB: cpu1.s.rssMiB,
      secondarySerialTrouble: serialTrouble(P('secondary-serial.log')),
      primarySerialTrouble: serialTrouble(P('primary-serial.log')),
    };
    note('soak done', result.colo);

    if (cfg.failover === 'kill-primary') {
      // 5. pull the plug on the primary, fail over on the secondary at once
      const tKill = nowMs();
      procs.primary.kill('SIGKILL');
      journal({ mark: 'kill-primary' });
      const steps = {};
      const step = async (name, fn) => {
        const t = nowMs();
        await fn();
        steps[name] = fmt(nowMs() - t);
      };
      await step('nbd-server-stop', () => sec.cmd('nbd-server-stop'));
      await step('x-colo-lost-heartbeat', () => sec.cmd('x-colo-lost-heartbeat'));
      await step('wait-mode-none', () =>
        waitFor('secondary mode none', async () => (await sec.cmd('query-colo-status', undefined, { quiet: true })).mode === 'none', 10000, 5),
      );
      await step('object-del f2', () => sec.cmd('object-del', { id: 'f2' }));
      await step('object-del f1', () => sec.cmd('object-del', { id: 'f1' }));
      await step('chardev-remove red1', () => sec.cmd('chardev-remove', { id: 'red1' }));
      await step('chardev-remove red0', () => sec.cmd('chardev-remove', { id: 'red0' }));
      await step('announce-self', () => sec.cmd('announce-self', { initial: 50, max: 550, rounds: 5, step: 100 }));
      const tDone = nowMs();
      result.failover = { steps, qmpTotalMs: fmt(tDone - tKill), status: await sec.cmd('query-status') };
      note('failover done', result.failover);
      await sleep(cfg.postSeconds * 1000);
      procs.probe.kill('SIGTERM');
      await new Promise((r) => procs.probe.once('exit', r));
      result.client = analyseProbe(P('probe.jsonl'), tSoak, tKill, tProtect);
      result.client.serialTroubleAfter = serialTrouble(P('secondary-serial.log'));
    } else {
      procs.probe.kill('SIGTERM');
      await new Promise((r) => procs.probe.once('exit', r));
      result.client = analyseProbe(P('probe.jsonl'), tSoak, Infinity, tProtect);
    }
    for (const q of [pri, priOob, sec, secOob]) q.close();
  } finally {
    cleanup();
  }
  fs.writeFileSync(P('result.json'), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
}

// Client figures: live protection [tProtect, tSoak), the COLO soak [tSoak, tKill) and the
// failover (from the kill on) separately.
function analyseProbe(file, tSoak, tKill, tProtect) {
  const ev = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const ok = ev.filter((e) => e.k === 'http' && e.ok);
  const bad = ev.filter((e) => e.k === 'http' && !e.ok);
  const data = ev.filter((e) => e.k === 'stream');
  // longest interval between consecutive events: 'within' [from, to] (both ends inside) or
  // 'overlapping' it (so a gap that straddles a boundary counts where the disruption began)
  const longest = (xs, from, to, how = 'within') => {
    let best = 0;
    for (let i = 1; i < xs.length; i++) {
      const [a, b] = [xs[i - 1].t, xs[i].t];
      if (how === 'within' ? a >= from && b <= to : b > from && a < to) best = Math.max(best, b - a);
    }
    return fmt(best);
  };
  let monotonic = true,
    repeats = 0;
  for (let i = 1; i < ok.length; i++) {
    if (ok[i].n === null || ok[i - 1].n === null) continue;
    if (ok[i].n < ok[i - 1].n) monotonic = false;
    if (ok[i].n === ok[i - 1].n) repeats++;
  }
  const soak = (e) => e.t >= tSoak && e.t < tKill;
  const lat = ok
    .filter(soak)
    .map((e) => e.ms)
    .sort((a, b) => a - b);
  const pct = (q) => fmt(lat[Math.min(lat.length - 1, Math.floor(lat.length * q))]);
  const streamEnd = ev.find((e) => e.k === 'stream-end');
  const r = {
    soak: {
      httpOk: ok.filter(soak).length,
      httpFailed: bad.filter(soak).length,
      httpLatencyMs: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: pct(1) },
      longestHttpGapMs: longest(ok, tSoak, tKill),
      streamLongestSilenceMs: longest(data, tSoak, tKill),
    },
    counterFirst: ok[0]?.n ?? null,
    counterLast: ok.at(-1)?.n ?? null,
    counterMonotonic: monotonic,
    counterRepeats: repeats,
    streamChunks: data.length,
    streamEnd: streamEnd ?? null,
  };
  if (tProtect !== undefined) {
    r.protect = {
      httpFailed: bad.filter((e) => e.t >= tProtect && e.t < tSoak).length,
      longestHttpGapMs: longest(ok, tProtect, tSoak, 'overlapping'),
      streamLongestSilenceMs: longest(data, tProtect, tSoak, 'overlapping'),
      httpLatencyBeforeMs: fmt(median(ok.filter((e) => e.t < tProtect).map((e) => e.ms))),
    };
  }
  if (Number.isFinite(tKill)) {
    const before = ok.filter((e) => e.t < tKill).at(-1);
    const after = ok.find((e) => e.t >= tKill);
    const sBefore = data.filter((e) => e.t < tKill).at(-1);
    const sAfter = data.find((e) => e.t >= tKill);
    r.failover = {
      httpGapAcrossKillMs: before && after ? fmt(after.t - before.t) : null, // last answer before → first after
      killToFirstHttpOkMs: after ? fmt(after.t - tKill) : null,
      longestHttpGapAfterKillMs: longest(ok, tKill, Infinity, 'overlapping'),
      httpFailedAfterKill: bad.filter((e) => e.t >= tKill).length,
      httpOkAfterKill: ok.filter((e) => e.t >= tKill).length,
      counterBeforeKill: before?.n ?? null,
      counterFirstAfterKill: after?.n ?? null,
      streamSilenceAcrossKillMs: sBefore && sAfter ? fmt(sAfter.t - sBefore.t) : null,
      streamLongestSilenceAfterKillMs: longest(data, tKill, Infinity, 'overlapping'),
      streamTickBeforeKill: sBefore?.tail ?? null,
      streamTickFirstAfterKill: sAfter?.tail ?? null,
      streamBytesAfterKill: data.filter((e) => e.t >= tKill).reduce((s, e) => s + e.bytes, 0),
      streamSurvived: !streamEnd && data.some((e) => e.t >= tKill + 1000),
    };
  }
  return r;
}

// ---------------------------------------------------------------- the client (inside lsc-c)
function httpOnce(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const t0 = nowMs();
    let body = '';
    let done = false;
    const s = net.createConnection({ host, port });
    const finish = (ok, why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ ok, why, body, ms: nowMs() - t0 });
    };
    const timer = setTimeout(() => finish(false, 'timeout'), timeoutMs);
    s.on('connect', () => s.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
    s.on('data', (d) => (body += d));
    s.on('end', () => finish(/^HTTP\/1\.[01] 200/.test(body), 'end'));
    s.on('error', (e) => finish(false, e.code ?? e.message));
  });
}

async function probe() {
  const host = env.GUEST_IP;
  const out = (o) => process.stdout.write(JSON.stringify({ t: +nowMs().toFixed(1), ...o }) + '\n');
  let stop = false;
  process.on('SIGTERM', () => {
    stop = true;
  });
  // the long-lived stream: one TCP connection held open for the whole drill
  const st = cfg.probe.includes('stream') ? net.createConnection({ host, port: cfg.streamPort }) : null;
  st?.on('connect', () => out({ k: 'stream-connected' }));
  st?.on('data', (d) => out({ k: 'stream', bytes: d.length, tail: d.toString('latin1').trim().split('\n').at(-1).slice(0, 40) }));
  st?.on('end', () => out({ k: 'stream-end', why: 'end' }));
  st?.on('error', (e) => out({ k: 'stream-end', why: e.code ?? e.message }));
  while (!stop && !cfg.probe.includes('http')) await sleep(100);
  while (!stop) {
    const r = await httpOnce(host, cfg.httpPort, cfg.httpTimeoutMs);
    const body = r.body.split('\r\n\r\n').slice(1).join('\r\n\r\n');
    const m = /"count":(\d+)/.exec(body) ?? /(\d+)/.exec(body); // demo guest: {"count":N,...}
    out({ k: 'http', ok: r.ok, ms: +r.ms.toFixed(1), n: r.ok && m ? Number(m[1]) : null, ...(r.ok ? {} : { why: r.why }) });
    await sleep(cfg.httpIntervalMs);
  }
  st?.destroy();
  process.exit(0);
}

function ping(host, port) {
  const s = net.createConnection({ host, port: Number(port) });
  s.setTimeout(2000, () => process.exit(1));
  s.on('connect', () => process.exit(0));
  s.on('error', () => process.exit(1));
}

const sub = process.argv[2];
if (sub === 'drive')
  drive().catch((e) => {
    console.error(e.stack ?? e);
    process.exit(1);
  });
else if (sub === 'probe') probe();
else if (sub === 'ping') ping(process.argv[3], process.argv[4]);
else {
  console.error('usage: colo-smoke.mjs drive|probe|ping HOST PORT');
  process.exit(2);
}
