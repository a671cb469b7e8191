import { networkInterfaces } from 'node:os';
import type { DiscoveryResult, HostCandidate } from '../contract/hosts.js';
import { LockstepError, type ProgressDTO } from '../contract/index.js';
import { probeSsh, whyNoneFound } from './banner.js';
import { hostsOf, scanCidrFor } from '../net/ipv4.js';
import type { SshConfigHost } from './ssh-config.js';

export interface DiscoverOptions {
  cidrs: string[];
  ports: number[];
  sshConfig: SshConfigHost[];
  isKnown: (address: string, port: number) => boolean;
  concurrency?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: ProgressDTO) => void;
}

/** This machine's IPv4 subnets (loopback excluded), each capped at /24. */
export function localSubnets(): string[] {
  const out = new Set<string>();
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal || !a.cidr) continue;
      out.add(scanCidrFor(a.address, Number(a.cidr.split('/')[1])));
    }
  }
  return [...out];
}

/** Concurrent, bounded scan for SSH banners; ssh_config hosts are probed too. */
export async function discover(o: DiscoverOptions): Promise<DiscoveryResult> {
  const t0 = Date.now();
  const targets: { address: string; port: number; source: HostCandidate['source']; name?: string }[] = [];
  for (const cidr of o.cidrs) {
    let addrs: string[];
    try {
      addrs = hostsOf(cidr, 16);
    } catch (e) {
      throw new LockstepError({
        code: 'bad-cidr',
        message: `Cannot scan ${JSON.stringify(cidr)}: ${(e as Error).message}.`,
        fix: 'Give an IPv4 network like 192.168.1.0/24 (at most a /16).',
      });
    }
    for (const address of addrs) for (const port of o.ports) targets.push({ address, port, source: 'scan' });
  }
  for (const h of o.sshConfig) {
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(h.hostName)) targets.push({ address: h.hostName, port: h.port, source: 'ssh-config', name: h.alias });
  }
  const seen = new Map<string, HostCandidate>();
  const misses: Partial<Record<'no-answer' | 'refused' | 'not-ssh' | 'unreachable', number>> = {};
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < targets.length) {
      if (o.signal?.aborted) return;
      const t = targets[next++]!;
      const probe = await probeSsh(t.address, t.port, o.timeoutMs ?? 800);
      const banner = 'banner' in probe ? probe.banner : null;
      if (!('banner' in probe)) misses[probe.why] = (misses[probe.why] ?? 0) + 1;
      done++;
      if (done % 16 === 0 || done === targets.length)
        o.onProgress?.({
          fraction: done / targets.length,
          message: `Probed ${done} of ${targets.length} addresses`,
          rate: (done * 1000) / Math.max(1, Date.now() - t0),
          rateUnit: 'addresses',
        });
      if (!banner) continue;
      const key = `${t.address}:${t.port}`;
      const prev = seen.get(key);
      const c: HostCandidate = { address: t.address, port: t.port, banner, source: prev?.source ?? t.source, known: o.isKnown(t.address, t.port) };
      const name = t.name ?? prev?.name;
      if (name) c.name = name;
      seen.set(key, c);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 128, Math.max(1, targets.length)) }, worker));
  const ipKey = (c: HostCandidate) => c.address.split('.').reduce((n, x) => n * 256 + Number(x), 0) * 65536 + c.port;
  return {
    scanned: o.cidrs,
    addressesProbed: targets.length,
    candidates: [...seen.values()].sort((a, b) => ipKey(a) - ipKey(b)),
    notes: seen.size === 0 ? whyNoneFound(misses, o.ports) : [],
    seconds: (Date.now() - t0) / 1000,
  };
}
