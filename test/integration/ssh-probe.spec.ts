import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeSsh, whyNoneFound } from '../../src-main/hosts/banner.js';
import { discover } from '../../src-main/hosts/discovery.js';

/** Why a scan found nothing, against real local sockets: an SSH-like banner, a closed port, a server that is not SSH. */
const servers: Server[] = [];
const listen = (onConn: (s: import('node:net').Socket) => void) =>
  new Promise<number>((resolve) => {
    const srv = createServer(onConn);
    servers.push(srv);
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port));
  });
let ssh = 0;
let http = 0;
let closed = 0;

beforeAll(async () => {
  ssh = await listen((s) => s.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
  http = await listen((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  // a port that was just free: nothing listens there now
  const tmp = await listen(() => undefined);
  closed = tmp;
  await new Promise<void>((r) => servers.pop()!.close(() => r()));
});
afterAll(() => servers.forEach((s) => s.close()));

describe('probeSsh says why an address gave no SSH host', () => {
  it('reads the banner of an SSH server', async () => {
    expect(await probeSsh('127.0.0.1', ssh)).toEqual({ banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2' });
  });
  it('a closed port is "refused", a server speaking something else is "not-ssh"', async () => {
    expect(await probeSsh('127.0.0.1', closed)).toEqual({ why: 'refused' });
    expect(await probeSsh('127.0.0.1', http)).toEqual({ why: 'not-ssh' });
  });
  it('a scan that finds none carries the reasons in its notes; one that finds some does not', async () => {
    const none = await discover({ cidrs: ['127.0.0.1/32'], ports: [closed, http], sshConfig: [], isKnown: () => false });
    expect(none.candidates).toEqual([]);
    expect(none.notes).toEqual(whyNoneFound({ refused: 1, 'not-ssh': 1 }, [closed, http]));
    expect(none.notes.join(' ')).toContain('refused the connection');
    expect(none.notes.join(' ')).toContain('not SSH');
    const some = await discover({ cidrs: ['127.0.0.1/32'], ports: [ssh, closed], sshConfig: [], isKnown: () => false });
    expect(some.candidates.map((c) => c.port)).toEqual([ssh]);
    expect(some.notes).toEqual([]);
  });
  it('words each reason', () => {
    expect(whyNoneFound({ 'no-answer': 3 }, [22])).toEqual(['3 address(es) gave no answer on port 22: the host is off, or a firewall drops the connection.']);
    expect(whyNoneFound({}, [22])).toEqual([]);
  });
});
