/**
 * The lab client's `--until-recovered` against a real local HTTP server that stops answering for a
 * while (503s) and comes back with a new boot: the probe ends soon after the answers return, long
 * before its time is up, and reports the run of failed requests.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { probeHttp } from '../../src-main/virtual-lab/client-probe.js';

let count = 0;
let down: { from: number; to: number } | null = null;
const server = createServer((_, res) => {
  const now = Date.now();
  if (down && now >= down.from && now < down.to) return void res.writeHead(503).end('{"error":"down"}');
  count++;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count, boot: down && now >= down.to ? 'b2' : 'b1', host: 'x' }));
});
const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('lab client --until-recovered', () => {
  it('ends once answers came back after a gap of a second or more, and measures the failed run', async () => {
    const t0 = Date.now();
    down = { from: t0 + 400, to: t0 + 1900 };
    const r = await probeHttp('127.0.0.1', port, '/', 20, 50, true);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.failures).toBeGreaterThan(0);
    expect(r.failedRunMs!).toBeGreaterThan(1200);
    expect(r.failedRunMs!).toBeLessThan(2500);
    expect(r.wentBackwards).toBe(false);
    expect([(r.first as { boot: string }).boot, (r.last as { boot: string }).boot]).toEqual(['b1', 'b2']);
  });

  it('without it, polls for the whole time', async () => {
    down = null;
    const t0 = Date.now();
    const r = await probeHttp('127.0.0.1', port, '/', 0.6, 50);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(r.failures).toBe(0);
    expect(r.failedRunMs).toBeUndefined();
  });
});
