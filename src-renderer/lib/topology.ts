import type { LinkStatus, MirrorStatusDTO, PairStatus } from '../../src-main/contract/index.js';

/** Pure: what the topology picture shows, from the status DTOs. */
export interface TopologyModel {
  headline: { tone: 'ok' | 'warn' | 'bad' | 'idle'; text: string; detail: string };
  hosts: { name: string; address: string; role: 'primary' | 'secondary' | 'survivor' | 'lost' | 'idle' }[];
  crossover: { state: 'up' | 'down' | 'none'; label: string };
  mirror: { state: string; label: string; percent: number | null };
  lockstep: { state: PairStatus['state']; label: string };
}

export function topologyModel(input: {
  hosts: { name: string; hostId: string }[];
  link: LinkStatus | null;
  mirror: MirrorStatusDTO | null;
  pair: PairStatus | null;
}): TopologyModel {
  const { link, mirror, pair } = input;
  const hostName = (hostId: string) => input.hosts.find((h) => h.hostId === hostId)?.name ?? hostId;
  const hosts = input.hosts.slice(0, 2).map((h) => ({ name: h.name, address: h.hostId, role: 'idle' as TopologyModel['hosts'][number]['role'] }));
  let headline: TopologyModel['headline'] = {
    tone: 'idle',
    text: 'Not protected yet',
    detail: 'Run the setup: Discover → Preflight → Link → Mirror → Protect.',
  };
  if (pair?.state === 'lockstep') {
    for (const h of hosts) h.role = h.address === pair.primary.host ? 'primary' : h.address === pair.secondary.host ? 'secondary' : h.role;
    headline = {
      tone: 'ok',
      text: 'Protected — a host can fail and the guest keeps running',
      detail: `Primary on ${hostName(pair.primary.host)}, secondary in lockstep on ${hostName(pair.secondary.host)}. ${diskLine(pair)}`,
    };
  } else if (pair?.state === 'failed-over') {
    for (const h of hosts) h.role = h.address === pair.survivor.host ? 'survivor' : h.address === pair.lost.host ? 'lost' : h.role;
    headline = {
      tone: 'warn',
      text: 'Running on one host — not protected',
      detail: `${hostName(pair.lost.host)} failed; the guest runs on ${hostName(pair.survivor.host)}. Re-protect when it is back.`,
    };
  } else if (pair?.state === 'maintenance') {
    for (const h of hosts) h.role = h.address === pair.survivor.host ? 'survivor' : h.address === pair.host.host ? 'lost' : h.role;
    headline = {
      tone: 'warn',
      text: `${hostName(pair.host.host)} in maintenance — not protected`,
      detail: `${hostName(pair.host.host)} can be rebooted now; the guest runs unprotected on ${hostName(pair.survivor.host)}.`,
    };
  } else if (pair?.state === 'degraded') {
    for (const h of hosts) if (h.address === pair.primary.host) h.role = 'primary';
    headline = { tone: 'warn', text: 'Running, not protected', detail: pair.why };
  } else if (pair?.state === 'starting') {
    headline = { tone: 'idle', text: 'Starting lockstep…', detail: pair.step };
  } else if (pair?.state === 'error') {
    headline = { tone: 'bad', text: 'Lockstep error', detail: pair.why };
  } else if (mirror?.state === 'unavailable') {
    headline = {
      tone: 'warn',
      text: 'No DRBD on these hosts',
      detail: mirror.continued ? 'Protect will copy the guest’s disk in full.' : `${mirror.why} Fix: ${mirror.fix}`,
    };
  } else if (mirror && mirror.state !== 'none') {
    headline = {
      tone: mirror.state === 'connected' ? 'ok' : 'warn',
      text: mirror.state === 'connected' ? 'Disks mirrored' : `Mirror ${mirror.state}`,
      detail: 'The guest is not in lockstep yet.',
    };
  }
  const crossover: TopologyModel['crossover'] =
    link?.state === 'up'
      ? {
          state: 'up',
          label: `${link.a.nic} ⇄ ${link.b.nic} · ${link.measured ? `${link.measured.rttP50Ms.toFixed(2)} ms` : ''}${link.measured?.mibPerSec ? ` · ${Math.round(link.measured.mibPerSec)} MiB/s` : ''}`,
        }
      : link?.state === 'broken'
        ? { state: 'down', label: link.why }
        : { state: 'none', label: 'no replication link yet' };
  const mirrorView: TopologyModel['mirror'] =
    mirror?.state === 'unavailable'
      ? { state: 'none', label: 'no DRBD here: full disk copy at protect', percent: null }
      : mirror && mirror.state !== 'none'
        ? {
            state: mirror.state,
            label:
              mirror.state === 'syncing'
                ? `${pair?.state === 'lockstep' || pair?.state === 'failed-over' ? 're' : ''}syncing ${mirror.percent?.toFixed(1) ?? '?'}%`
                : mirror.underPair === 'split-in-lockstep'
                  ? 'DRBD apart in lockstep: each side records its writes'
                  : `DRBD ${mirror.state} (${mirror.a.diskState}/${mirror.b.diskState})`,
            percent: mirror.percent,
          }
        : { state: 'none', label: 'no DRBD mirror', percent: null };
  const lockstep: TopologyModel['lockstep'] = pair
    ? {
        state: pair.state,
        label:
          pair.state === 'lockstep'
            ? `lockstep · ${pair.checkpointsPerSecond.toFixed(2)} checkpoints/s · pause ${pair.checkpointPauseMsP50 === null ? '?' : Math.round(pair.checkpointPauseMsP50)} ms`
            : pair.state === 'unprotected'
              ? 'no guest in lockstep'
              : pair.state === 'failed-over'
                ? 'not protected: the guest runs on one host'
                : pair.state === 'maintenance'
                  ? `not protected: ${pair.host.name} is in maintenance`
                  : pair.state === 'degraded'
                    ? 'not protected'
                    : pair.state === 'starting'
                      ? 'starting lockstep…'
                      : 'lockstep error',
      }
    : { state: 'unprotected', label: 'no guest in lockstep' };
  return { headline, hosts, crossover, mirror: mirrorView, lockstep };
}

/** Where the guest's disk lives, and what the last re-protect copied. */
function diskLine(pair: Extract<PairStatus, { state: 'lockstep' }>): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 0)} MiB`;
  const last = pair.lastResync ? ` Last re-protect: ${pair.lastResync.how === 'drbd' ? 'DRBD resynced' : 'full copy of'} ${mib(pair.lastResync.bytes)}.` : '';
  return pair.disk ? `Disk on DRBD ${pair.disk.resource} (${pair.disk.device}).${last}` : `Disk copied in full host to host.${last}`;
}
