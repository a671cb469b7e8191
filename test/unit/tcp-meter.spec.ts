/** The meter on a user VM's TCP port (issue 21), against a real local TCP server: connect + close polls, a held connection. */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runMeter } from '../../src-main/drill/meter.js';
import { tcpConnect } from '../../src-main/drill/tcp-probe.js';

let server: Server | null = null;
const held = new Set<Socket>();
function listen(): Promise<number> {
  server = createServer((s) => {
    held.add(s);
    s.on('close', () => held.delete(s));
    s.on('error', () => undefined);
  });
  return new Promise((res) => server!.listen(0, '127.0.0.1', () => res((server!.address() as { port: number }).port)));
}
afterEach(() => {
  for (const s of held) s.destroy();
  server?.close();
  server = null;
});

describe('the meter watching a TCP port of a user VM', () => {
  it('a port that accepts answers; a closed one fails at once', async () => {
    const port = await listen();
    expect(await tcpConnect('127.0.0.1', port, 1000)).toMatchObject({ ok: true });
    server!.close();
    for (const s of held) s.destroy();
    expect(await tcpConnect('127.0.0.1', port, 1000)).toMatchObject({ ok: false });
  });

  it('counts connects as answers (no counter), and sees the held connection survive or be cut', async () => {
    const port = await listen();
    const m = await runMeter('127.0.0.1', 0.6, 10, {}, port);
    expect(m.samples.length).toBeGreaterThan(10);
    expect(m.samples.every((x) => x.ms !== null && x.count === undefined)).toBe(true);
    expect(m.ordinary!.length).toBeGreaterThan(10);
    expect(m.stream.survived).toBe(true);
    // the service drops every connection mid-meter: the held one is seen lost
    const cut = runMeter('127.0.0.1', 0.8, 10, {}, port);
    setTimeout(() => {
      for (const s of held) s.destroy();
    }, 300);
    expect((await cut).stream.survived).toBe(false);
  });
});
