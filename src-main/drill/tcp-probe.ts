/**
 * What an ordinary client of a user VM's TCP service sees (issue 21): the meter knows nothing of
 * the service's protocol, so one probe is a TCP connect and a close. The handshake's SYN-ACK is the
 * guest's output (under COLO it leaves the primary only after the comparer released it), so a
 * completed connect is an answer of the guest's kernel on that port; a refusal (RST) or no answer
 * within the timeout is a failure. Services that speak first (SSH, SMTP) would answer a byte too,
 * Redis and HTTP do not: connect + close works for both and sends nothing the service must parse.
 */
import { connect, type Socket } from 'node:net';

export interface TcpAnswer {
  ok: boolean;
  connectMs?: number;
  error?: string;
}

export function tcpConnect(address: string, port: number, timeoutMs: number): Promise<TcpAnswer> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const sock = connect({ host: address, port });
    const done = (a: TcpAnswer) => {
      clearTimeout(timer);
      sock.removeAllListeners('connect');
      sock.on('error', () => undefined);
      if (a.ok) sock.end();
      else sock.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), timeoutMs);
    sock.once('connect', () => done({ ok: true, connectMs: Date.now() - t0 }));
    sock.once('error', (e) => done({ ok: false, error: e.message }));
  });
}

/**
 * One TCP connection held open for the whole meter (the stream of a protocol the meter does not
 * speak): nothing is sent, keepalive probes every second once idle, so a connection the survivor
 * does not know is reset and seen. `ended` resolves with why it ended.
 */
export function holdTcp(address: string, port: number): { socket: Socket; ended: Promise<string> } {
  const socket = connect({ host: address, port });
  socket.setKeepAlive(true, 1000);
  const ended = new Promise<string>((resolve) => {
    socket.once('error', (e) => resolve(e.message));
    socket.once('close', () => resolve('closed by the guest'));
  });
  socket.on('data', () => undefined);
  return { socket, ended };
}
