/**
 * Bad input at every door, and web mode's locks, against a running namespace lab (hosts added, so
 * a request that slipped through would reach real hosts over SSH).
 * Doors: the CLI (a real process per call) and the WebSocket API of `lockstep serve` (the window
 * uses exactly that socket, so it is covered here too).
 * Invariants after every test: a clear error (code, message; a fix where one exists), exit ≠ 0,
 * nothing run (no /tmp/pwn), nothing changed (the store, the lab's namespaces and processes).
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { LabStatus } from '../../src-main/contract/index.js';
import { runCli } from '../../src-main/transports/cli/run-cli.js';
import { netnsList } from '../../src-main/virtual-lab/observe.js';
import { cliBin, startServer, stop } from '../helpers/processes.js';
import type { Res } from '../helpers/lab-cli.js';
import { expectNoLeftovers, labProcesses, storeSnapshot, type StoreSnapshot } from './invariants.js';
import { NS_PREFIX, nsLab, type Up } from './ns-lab.js';

const PWN = '/tmp/pwn';
const lab = nsLab();
const cli = lab.cli;
let up: Up;
let srv: Awaited<ReturnType<typeof startServer>> | undefined;
let before: StoreSnapshot;
let processesBefore: string[];
let netnsBefore: string[];
let stopping = false;

beforeAll(async () => {
  rmSync(PWN, { force: true });
  up = lab.up();
  cli.ok(['events', 'note', 'the store before the bad input']);
  srv = await startServer(lab.env);
  // the server must survive everything below: say how it ended if it does not
  let said = '';
  srv.child.stderr!.on('data', (d: Buffer) => (said = (said + String(d)).slice(-2000)));
  srv.child.once('exit', (code, signal) => {
    if (!stopping) console.error(`lockstep serve exited (${code ?? signal}): ${said}`);
  });
  // the in-process CLI (below) reads the same home as the processes
  Object.assign(process.env, lab.env);
  before = storeSnapshot(lab.home)!;
  processesBefore = labProcesses(up);
  netnsBefore = (await netnsList()).filter((n) => n.startsWith(`${NS_PREFIX}-`)).sort();
});

afterAll(async () => {
  stopping = true;
  if (srv) await stop(srv.child);
  lab.down();
  await expectNoLeftovers(NS_PREFIX);
});

/** Nothing ran, nothing changed: checked after every test of this file. */
afterEach(async () => {
  expect(existsSync(PWN), `${PWN} was created: a hostile string reached a shell`).toBe(false);
  expect(storeSnapshot(lab.home)).toEqual(before);
  expect(labProcesses(up)).toEqual(processesBefore);
  expect((await netnsList()).filter((n) => n.startsWith(`${NS_PREFIX}-`)).sort()).toEqual(netnsBefore);
  expect(cli.ok<LabStatus>(['lab', 'status'])).toMatchObject({ state: 'up' });
});

/** Every shell metacharacter at once, a newline, a path, SQL, unicode (RTL override, emoji), and a long string. */
const hostile = [
  `x$(touch ${PWN})\`touch ${PWN}\`;touch ${PWN}|touch ${PWN}&&touch ${PWN}`,
  `hostA\ntouch ${PWN}`,
  `hostA;rm -rf /`,
  '../../../../etc/passwd',
  "hostA'; DROP TABLE hosts; --",
  'hôstÄ\u202eBtsoh😀',
  'h'.repeat(5000),
];

type Call = { args: string[]; code: number; res: Res<unknown> | null; stderr: string };

/** The CLI as a process; `--json` on every call (a refusal is JSON too). Several at once: each is a node start. */
async function runMany(calls: string[][]): Promise<Call[]> {
  const one = (args: string[]) =>
    new Promise<Call>((resolve) => {
      const child = spawn(process.execPath, [cliBin, ...args, '--json'], { env: { ...process.env, ...lab.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += String(d)));
      child.stderr.on('data', (d: Buffer) => (err += String(d)));
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(t);
        let res: Res<unknown> | null = null;
        try {
          res = JSON.parse(out) as Res<unknown>;
        } catch {
          // judged below: every refusal must be JSON
        }
        resolve({ args, code: code ?? -1, res, stderr: err });
      });
    });
  const out: Call[] = [];
  for (let i = 0; i < calls.length; i += 3) out.push(...(await Promise.all(calls.slice(i, i + 3).map(one))));
  return out;
}

/**
 * The same door without a node start per call: `runCli` is all that `lockstep` (bin.js) runs, here
 * with its stdout and stderr captured. Used for the large matrices; `runMany` proves the process.
 */
async function runInProcess(calls: string[][]): Promise<Call[]> {
  const out: Call[] = [];
  for (const args of calls) {
    let stdout = '';
    let stderr = '';
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += a.join(' ') + '\n'));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (stderr += a.join(' ') + '\n'));
    let code: number;
    try {
      code = await runCli([...args, '--json']);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    let res: Res<unknown> | null = null;
    try {
      res = JSON.parse(stdout) as Res<unknown>;
    } catch {
      // judged by expectRefused
    }
    out.push({ args, code, res, stderr });
  }
  return out;
}

/** Each call refused with one of `codes`, a message that says something, and no stack trace. */
function expectRefused(results: Call[], codes: string[], needFix = true): void {
  for (const r of results) {
    const what = `lockstep ${r.args.map((a) => JSON.stringify(a.slice(0, 60))).join(' ')}`;
    expect(r.res, `${what}: JSON on stdout (stderr: ${r.stderr.slice(0, 300)})`).not.toBeNull();
    expect(r.res!.ok, what).toBe(false);
    expect(r.code, what).not.toBe(0);
    expect(codes, `${what}: ${JSON.stringify(r.res!.error)}`).toContain(r.res!.error!.code);
    expect(r.res!.error!.message.length, what).toBeGreaterThan(10);
    expect(r.res!.error!.message, what).not.toMatch(/\n\s+at /);
    if (needFix) expect(r.res!.error!.fix ?? '', `${what}: a fix`).not.toBe('');
  }
}

describe('fault: bad input at the CLI door', () => {
  it('hostile strings in every slot a string can take: refused before anything runs', async () => {
    const slots: ((s: string) => string[])[] = [
      (s) => ['hosts', 'add', s],
      (s) => ['hosts', 'forget', s],
      (s) => ['link', 'setup', s, 'hostB'],
      (s) => ['link', 'setup', 'hostA', s],
      (s) => ['link', 'setup', 'hostA', 'hostB', '--subnet', s],
      (s) => ['preflight', 'run', s],
      (s) => ['mirror', 'setup', '--disk-a', s],
      (s) => ['mirror', 'setup', '--wipe', s],
      (s) => ['mirror', 'switch', s],
      (s) => ['mirror', 'resolve', s],
      (s) => ['lab', 'power', s, 'off'],
      (s) => ['lab', 'client', 'http', '--path', s],
      (s) => ['tasks', 'cancel', s],
      (s) => ['lockstep', 'protect', s, 'hostB'],
      (s) => ['lockstep', 'protect', 'hostA', 'hostB', '--guest-ip', s],
      (s) => ['drill', 'run', s],
      (s) => ['hosts', 'discover', '--cidr', s],
    ];
    const results = await runInProcess(slots.flatMap((slot) => hostile.map(slot)));
    expectRefused(results, ['bad-request']);
  });

  it('wrong types, malformed arguments, unknown commands and options: refused with the fix', async () => {
    const results = await runInProcess([
      ['events', 'list', '--limit', 'many'],
      ['events', 'list', '--limit', '1e9'],
      ['events', 'list', '--limit', '-1'],
      ['events', 'list', '--limit', '1.5'],
      ['events', 'list', '--limit', ''],
      ['drill', 'export', 'one'],
      ['drill', 'export', '0'],
      ['drill', 'export', 'Infinity'],
      ['hosts', 'add', '198.18.84.11', '--port', '99999'],
      ['hosts', 'add', '198.18.84.11', '--port', '22;id'],
      ['hosts', 'add', '198.18.84.11', '--accept-fingerprint', 'SHA256:short'],
      ['hosts', 'add', '198.18.84.11', '--user', 'root;id'],
      ['link', 'setup', 'hostA', 'hostB', '--mtu', '1234'],
      ['link', 'setup', 'hostA', 'hostB', '--subnet', '10.99.0.0/24'],
      ['lab', 'power', 'hostA', 'sideways'],
      ['lab', 'client', 'http', '--seconds', '1e9'],
      ['lab', 'client', 'carrier-pigeon'],
      ['drill', 'run', 'kill-everything'],
      ['mirror', 'setup', '--blank=maybe'],
      ['lab', 'up', '--kernel=maybe'],
      ['preflight', 'run', 'hostA', '--guest-ram-mi-b', 'lots'],
      ['events', 'note', ''],
      ['events', 'note', 'x'.repeat(501)],
      ['events', 'note', 'a', 'b'],
      ['events', 'list', '--evil', '1'],
      ['events', 'list', '--limit'],
      ['frobnicate', 'now'],
      ['hosts', '__proto__'],
      ['hosts', 'constructor'],
      ['app', 'info', 'extra'],
    ]);
    expectRefused(results, ['bad-request', 'bad-arguments']);
  });

  it('unknown ids (hosts, plans, drills, consoles): "not found" naming what exists, nothing done', async () => {
    const results = await runInProcess([
      ['hosts', 'forget', 'hostZ'],
      ['hosts', 'forget', '198.18.84.99:22'],
      ['link', 'setup', 'hostA', 'hostZ'],
      ['link', 'setup', 'hostA', 'hostA'],
      ['preflight', 'run', 'hostZ'],
      ['tasks', 'cancel', '00000000-0000-0000-0000-000000000000'],
      ['drill', 'export', '99999'],
      ['lab', 'power', 'hostZ', 'off'],
      ['lab', 'power', 'hostZ', 'on'],
      ['lockstep', 'protect', 'hostA', 'hostZ'],
      ['console', 'input', '--stream-id', '00000000-0000-0000-0000-000000000000', '--data', 'x'],
      ['console', 'resize', '--stream-id', '00000000-0000-0000-0000-000000000000', '--cols', '80', '--rows', '24'],
      ['mirror', 'switch', 'hostA'],
      ['mirror', 'verify'],
      ['lockstep', 'failover'],
    ]);
    for (const r of results) expect(r.res?.error?.code, r.args.join(' ')).not.toBe('internal');
    // closing a console that is not open is "already so", like every convergent command
    expect((await runInProcess([['console', 'close', '--stream-id', '00000000-0000-0000-0000-000000000000']]))[0]!.res).toMatchObject({ ok: true });
    expectRefused(results, [
      'unknown-host',
      'not-found',
      'same-host',
      'no-lab-host',
      'unknown-stream',
      'no-mirror',
      'mirror-none',
      'no-pair',
      'nothing-to-fail-over',
      'console-closed',
      'not-in-lockstep',
      'not-protected',
    ]);
  });
});

describe('fault: hostile strings the schema lets through stay data', () => {
  it('a key file path full of shell syntax is only ever a path; a search for SQL is only a search', async () => {
    const [key, query] = await runInProcess([
      ['hosts', 'add', up.hosts[0]!.address, '--key-file', `/tmp/${hostile[0]!}`],
      ['events', 'list', '--query', "x' OR 1=1; DROP TABLE events; --"],
    ]);
    // hostA is added already: "already so", the path is never even opened (and the store stays as it was)
    expect(key!.res).toMatchObject({ ok: true, value: { name: 'hostA' } });
    expect(key!.res!.value).not.toHaveProperty('keyFile', `/tmp/${hostile[0]!}`);
    expect(query!.res).toEqual({ ok: true, value: [] });
  });
});

describe('fault: bad input at the CLI door, as a process', () => {
  it('each kind of bad input, through `lockstep` itself: exit ≠ 0, the refusal as JSON on stdout, nothing run', async () => {
    const results = await runMany([
      ['hosts', 'add', hostile[0]!],
      ['link', 'setup', 'hostA', hostile[1]!],
      ['lab', 'power', hostile[2]!, 'off'],
      ['mirror', 'setup', '--wipe', hostile[0]!],
      ['events', 'list', '--query', "x' OR 1=1; DROP TABLE events; --", '--limit', 'lots'],
      ['mirror', 'setup', '--blank=maybe'],
      ['frobnicate', 'now'],
      ['lab', 'power', 'hostZ', 'off'],
      ['tasks', 'cancel', '00000000-0000-0000-0000-000000000000'],
    ]);
    expectRefused(results, ['bad-request', 'bad-arguments', 'no-lab-host', 'not-found']);
    for (const r of results) expect(r.code, r.args.join(' ')).toBe(r.res!.error!.code === 'bad-arguments' ? 2 : 1);
  });
});

// ── the WebSocket door (what the window uses) ─────────────────────────────────────────

type Reply = { id: unknown; result: { ok: boolean; value?: unknown; error?: { code: string; message: string; fix?: string } } };

function open(path: string, headers: Record<string, string> = {}): Promise<{ opened: true; ws: WebSocket } | { opened: false; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv!.port}${path}`, { headers });
    ws.once('open', () => resolve({ opened: true, ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ opened: false, status: 0 }));
  });
}

async function api(): Promise<WebSocket> {
  const o = await open(`/api?token=${srv!.token}`, { Origin: srv!.url });
  if (!o.opened) throw new Error(`the API did not open with the right token (${o.status})`);
  return o.ws;
}

/** Sends one frame and waits for the next reply (events pushed meanwhile are skipped). */
function send(ws: WebSocket, frame: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no reply to ${String(frame).slice(0, 80)}`)), 30_000);
    const onMsg = (raw: WebSocket.RawData) => {
      const m = JSON.parse(String(raw)) as Partial<Reply>;
      if (!('result' in m)) return;
      ws.off('message', onMsg);
      clearTimeout(t);
      resolve(m as Reply);
    };
    ws.on('message', onMsg);
    ws.send(frame);
  });
}

describe('fault: bad input at the WebSocket door (the window)', () => {
  it('malformed JSON, unknown commands, wrong types, hostile strings: a clear error each, the socket stays usable', async () => {
    const ws = await api();
    try {
      const frames: [string | Buffer, string][] = [
        ['not json', 'bad-request'],
        ['{"id":1,"cmd":"app.info"', 'bad-request'],
        ['', 'bad-request'],
        [Buffer.from([0xff, 0x00, 0x13]), 'bad-request'],
        ['null', 'unknown-command'],
        ['42', 'unknown-command'],
        ['[1,2,3]', 'unknown-command'],
        ['"app.info"', 'unknown-command'],
        ['{"id":2,"cmd":"drop.tables","input":{}}', 'unknown-command'],
        ['{"id":3,"cmd":"__proto__","input":{}}', 'unknown-command'],
        ['{"id":4,"cmd":"constructor","input":{}}', 'unknown-command'],
        ['{"id":5,"cmd":"hasOwnProperty","input":{}}', 'unknown-command'],
        ['{"id":6,"cmd":["app.info"],"input":{}}', 'unknown-command'],
        ['{"id":7,"cmd":"events.list","input":{"limit":"1000"}}', 'bad-request'],
        ['{"id":8,"cmd":"events.list","input":{"limit":1e309}}', 'bad-request'],
        ['{"id":9,"cmd":"events.list","input":[]}', 'bad-request'],
        ['{"id":10,"cmd":"events.list","input":"limit=5"}', 'bad-request'],
        ['{"id":11,"cmd":"events.list","input":{"__proto__":{"limit":5},"evil":1}}', 'bad-request'],
        ['{"id":12,"cmd":"lab.power","input":{"host":"hostA","state":"off","force":true}}', 'bad-request'],
        ['{"id":13,"cmd":"lab.power","input":{"host":null,"state":"off"}}', 'bad-request'],
        ['{"id":14,"cmd":"drill.export","input":{"id":"1"}}', 'bad-request'],
        ['{"id":15,"cmd":"console.input","input":{"streamId":"x","data":"ls\\n"}}', 'bad-request'],
        [
          JSON.stringify({ id: 16, cmd: 'console.input', input: { streamId: '00000000-0000-0000-0000-000000000000', data: 'x'.repeat(70_000) } }),
          'bad-request',
        ],
        [JSON.stringify({ id: 17, cmd: 'console.open', input: { target: { kind: 'host', host: `hostA$(touch ${PWN})` } } }), 'bad-request'],
        [JSON.stringify({ id: 18, cmd: 'console.open', input: { target: { kind: 'shell', command: `touch ${PWN}` } } }), 'bad-request'],
        ['['.repeat(100_000) + ']'.repeat(100_000), 'unknown-command'],
        ...hostile.map((h): [string, string] => [JSON.stringify({ id: 19, cmd: 'link.setup', input: { a: h, b: 'hostB' } }), 'bad-request']),
        ...hostile.map((h): [string, string] => [JSON.stringify({ id: 20, cmd: 'hosts.add', input: { address: h } }), 'bad-request']),
        ...hostile.map((h): [string, string] => [JSON.stringify({ id: 21, cmd: 'mirror.setup', input: { diskA: h } }), 'bad-request']),
        ...hostile.map((h): [string, string] => [JSON.stringify({ id: 22, cmd: h, input: {} }), 'unknown-command']),
      ];
      for (const [frame, code] of frames) {
        const r = await send(ws, frame);
        const what = String(frame).slice(0, 80);
        expect(r.result.ok, what).toBe(false);
        expect(r.result.error!.code, `${what}: ${JSON.stringify(r.result.error)}`).toBe(code);
        expect(r.result.error!.message.length, what).toBeGreaterThan(10);
        expect(r.result.error!.fix ?? '', what).not.toBe('');
      }
      // unknown ids over the socket: clear errors too
      const unknown = await send(ws, JSON.stringify({ id: 30, cmd: 'console.input', input: { streamId: '00000000-0000-0000-0000-000000000000', data: 'x' } }));
      expect(unknown.result.ok).toBe(false);
      expect(unknown.result.error!.code).not.toBe('internal');
      // the id is echoed only when it is a plain number or string
      expect((await send(ws, '{"id":{"$gt":0},"cmd":"nope"}')).id).toBeNull();
      // still the same working socket
      expect((await send(ws, '{"id":99,"cmd":"app.info","input":{}}')).result).toMatchObject({ ok: true, value: { door: 'web' } });
    } finally {
      ws.close();
    }
  });

  it('an oversize frame (> 1 MiB) closes that socket with 1009; the server goes on serving', async () => {
    const ws = await api();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    ws.send(JSON.stringify({ id: 1, cmd: 'events.note', input: { message: 'x'.repeat(2 * 1024 * 1024) } }));
    expect(await closed).toBe(1009);
    const again = await api();
    try {
      expect((await send(again, '{"id":1,"cmd":"app.info","input":{}}')).result.ok).toBe(true);
    } finally {
      again.close();
    }
  });
});

// ── web mode's locks ────────────────────────────────────────────────────────────────

function http(path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: srv!.port, path, method: o.method ?? 'GET', headers: o.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (e) => reject(new Error(`${o.method ?? 'GET'} ${path}: ${e.message}`)));
    req.end(o.body);
  });
}

describe('fault: web mode refuses requests without the token or from another origin', () => {
  it('WebSocket: no token, wrong token, a prefix of the token, foreign or null Origin, foreign Host: refused before any command', async () => {
    const t = srv!.token;
    expect(await open('/api')).toEqual({ opened: false, status: 401 });
    expect(await open('/api?token=')).toEqual({ opened: false, status: 401 });
    expect(await open('/api?token=wrong')).toEqual({ opened: false, status: 401 });
    expect(await open(`/api?token=${t.slice(0, -1)}`)).toEqual({ opened: false, status: 401 });
    expect(await open(`/api?token=${t}x`)).toEqual({ opened: false, status: 401 });
    expect(await open(`/api?token=${t.toUpperCase()}`)).toEqual({ opened: false, status: 401 });
    expect(await open(`/api?Token=${t}`)).toEqual({ opened: false, status: 401 });
    expect(await open('/api', { Authorization: `Bearer ${t}` })).toEqual({ opened: false, status: 401 });
    expect(await open(`/api?token=${t}`, { Origin: 'http://evil.example' })).toEqual({ opened: false, status: 403 });
    expect(await open(`/api?token=${t}`, { Origin: 'null' })).toEqual({ opened: false, status: 403 });
    expect(await open(`/api?token=${t}`, { Origin: `http://127.0.0.1:${srv!.port}.evil.example` })).toEqual({ opened: false, status: 403 });
    expect(await open(`/api?token=${t}`, { Origin: `https://127.0.0.1:${srv!.port}` })).toEqual({ opened: false, status: 403 });
    // a foreign origin is refused even with no token at all (no oracle for the token)
    expect(await open('/api', { Origin: 'http://evil.example' })).toMatchObject({ opened: false });
    expect(await open(`/api?token=${t}`, { Host: 'attacker.example' })).toEqual({ opened: false, status: 421 });
    expect(await open(`/api?token=${t}`, { Host: `attacker.example:${srv!.port}` })).toEqual({ opened: false, status: 421 });
    expect(await open(`/elsewhere?token=${t}`)).toEqual({ opened: false, status: 404 });
    // the right token from our own page opens
    const ok = await open(`/api?token=${t}`, { Origin: srv!.url });
    expect(ok.opened).toBe(true);
    if (ok.opened) ok.ws.close();
  });

  it('HTTP: no API without the socket; foreign Origin and foreign Host refused; only GET of the static renderer', async () => {
    const t = srv!.token;
    // the renderer itself carries no data (the token lives in the URL fragment, never sent): served
    expect((await http('/')).status).toBe(200);
    // no command is reachable over plain HTTP, with or without the token
    for (const path of ['/api', `/api?token=${t}`, `/api?token=${t}&cmd=lab.down`]) {
      const r = await http(path);
      expect(r.status, path).toBe(404);
      expect(r.body, path).not.toContain('"ok"');
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'])
      expect(
        (await http(`/api?token=${t}`, { method, headers: { 'content-type': 'application/json' }, body: '{"cmd":"lab.down","input":{}}' })).status,
        method,
      ).toBe(405);
    // another site's page (or a rebinding name) gets nothing
    expect((await http('/', { headers: { Origin: 'http://evil.example' } })).status).toBe(403);
    expect((await http('/', { headers: { Origin: 'null' } })).status).toBe(403);
    expect((await http('/', { headers: { Host: 'attacker.example' } })).status).toBe(421);
    expect((await http('/', { headers: { Host: `attacker.example:${srv!.port}` } })).status).toBe(421);
    // our own page's requests are served
    expect((await http('/', { headers: { Origin: srv!.url } })).status).toBe(200);
    // nothing outside the renderer; a malformed escape is a 400, not the end of the server
    for (const p of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/../../../../etc/passwd', `/${encodeURIComponent(`$(touch ${PWN})`)}`])
      expect((await http(p)).status, p).toBe(404);
    for (const p of ['/%E0%A4%A', '/%', '/index.html%ff']) expect((await http(p)).status, p).toBe(400);
    expect((await http('/')).status, 'still serving').toBe(200);
  });
});

describe('a hostile string that is data is stored as data', () => {
  it('a note full of shell syntax is recorded verbatim, and runs nothing', () => {
    const message = hostile[0]!;
    const r = cli.ok<{ message: string }>(['events', 'note', message]);
    expect(r.message).toBe(message);
    // this test adds one event on purpose: the store is otherwise unchanged
    before = { ...before, events: before.events + 1 };
  });
});
