/**
 * What a plain client of the guest sees, for the downtime meter (runs in the client's place):
 * - the ordinary client: one HTTP request at a time (a user VM's port: one TCP connect + close),
 *   a fresh connection each, 1 s timeout, the next one ~10 ms after the previous started (or at
 *   once when it took longer); no hedging;
 * - the wire: the first frames from the guest on the client's link after a silence (a packet
 *   socket via python3: announce = QEMU's announce-self RARP, arp, ip), on the client's clock.
 */
import { spawn } from 'node:child_process';
import type { DowntimeSample } from '../contract/lockstep.js';
import { getCounter } from '../hosts/guest-client.js';
import { tcpConnect, type TcpAnswer } from './tcp-probe.js';

export const ORDINARY_TIMEOUT_MS = 1000;

/** One request of a client: the demo guest's counter over HTTP, or a TCP connect to a user VM's port. */
export type Probe = (timeoutMs: number) => Promise<TcpAnswer & { count?: number }>;

/** What the meter asks: the demo guest's counter (no port), or a TCP connect + close to the port named at protect. */
export function probeOf(address: string, port?: number): Probe {
  return port === undefined ? (ms) => getCounter(address, { timeoutMs: ms }) : (ms) => tcpConnect(address, port, ms);
}

export async function ordinaryClient(
  address: string,
  startedAt: number,
  end: () => number,
  intervalMs = 10,
  probe = probeOf(address),
): Promise<DowntimeSample[]> {
  const samples: DowntimeSample[] = [];
  while (Date.now() < end()) {
    const t0 = Date.now();
    const r = await probe(ORDINARY_TIMEOUT_MS);
    const ms = Date.now() - t0;
    const base = { t: t0 - startedAt, ...(r.connectMs !== undefined ? { connectMs: r.connectMs } : {}) };
    samples.push(r.ok ? { ...base, ms, ...(r.count !== undefined ? { count: r.count } : {}) } : { ...base, ms: null });
    const wait = t0 + intervalMs - Date.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }
  return samples;
}

// frames from the guest (IPv4 source or ARP sender = its address) or any RARP (QEMU's announce-self);
// an IP frame is printed only as the first after ≥ 30 ms of silence from the guest
const SNIFFER = String.raw`
import socket, sys, time
ip = socket.inet_aton(sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
last = 0
while True:
    d, a = s.recvfrom(64)
    if a[2] == 4 or len(d) < 34:
        continue
    et = d[12:14]
    k = 'announce' if et == b'\x80\x35' else 'arp' if et == b'\x08\x06' and d[28:32] == ip else 'ip' if et == b'\x08\x00' and d[26:30] == ip else None
    if k is None:
        continue
    now = time.time() * 1000
    if k != 'ip' or now - last > 30:
        print('%d %s' % (now, k), flush=True)
    last = now
`;

export interface WireFrame {
  /** ms since the meter started */
  t: number;
  kind: string;
}

/** Watches the client's wire until stop(); frames on the meter's clock. Without python3 or CAP_NET_RAW: no frames, no error. */
export function watchWire(address: string, startedAt: number): { stop(): WireFrame[] } {
  const frames: WireFrame[] = [];
  let child: ReturnType<typeof spawn> | null = null;
  try {
    child = spawn('python3', ['-c', SNIFFER, address], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.on('error', () => undefined);
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += String(d);
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const [at, kind] = buf.slice(0, i).split(' ');
        buf = buf.slice(i + 1);
        if (Number(at) > 0 && kind) frames.push({ t: Number(at) - startedAt, kind });
      }
    });
  } catch {
    child = null;
  }
  return {
    stop: () => {
      child?.kill('SIGKILL');
      return frames;
    },
  };
}
