/** The namespace lab (prefix lf) as the link fault scenarios drive it, and what they observe on it. */
import { spawnSync } from 'node:child_process';
import type { LabStatus, LinkStatus } from '../../src-main/contract/index.js';
import { labEnv } from '../helpers/lab-env.js';
import { labCli } from '../helpers/lab-cli.js';

export type Up = Extract<LabStatus, { state: 'up' }>;
export type LabHost = Up['hosts'][number];
export type LinkUp = Extract<LinkStatus, { state: 'up' }>;

export const NS_PREFIX = 'lf';
export const NS_NET = '198.18.84';

/** A fresh namespace lab with both hosts added; `down()` removes it and its home. */
export function nsLab(): { cli: ReturnType<typeof labCli>; env: Record<string, string>; home: string; up(): Up; down(): void } {
  const { env, home } = labEnv(NS_PREFIX, NS_NET);
  const cli = labCli(env);
  return {
    cli,
    env,
    home: home.path,
    up: () => {
      cli.json(['lab', 'down']);
      const lab = cli.ok<Up>(['lab', 'up']);
      cli.ok(['hosts', 'add-lab']);
      return lab;
    },
    down: () => {
      cli.json(['lab', 'down']);
      home.remove();
    },
  };
}

/** IPv4 addresses on a NIC of a namespace host, seen from the machine (not through the app). */
export function inet(h: LabHost, nic: string): string[] {
  const r = spawnSync('ip', ['-n', h.netns, '-j', 'addr', 'show', 'dev', nic], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip -n ${h.netns} addr show dev ${nic}: ${r.stderr}`);
  const [link] = JSON.parse(r.stdout) as { operstate: string; addr_info: { family: string; local: string; prefixlen: number }[] }[];
  return link!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

export function operstate(h: LabHost, nic: string): string {
  const r = spawnSync('ip', ['-n', h.netns, '-j', 'link', 'show', 'dev', nic], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as { operstate: string }[])[0]!.operstate;
}

/** Files `link setup` may persist on a namespace host: they live in the machine's /etc, shared by both hosts. */
export function persistedFiles(): string[] {
  const r = spawnSync(
    'sh',
    ['-c', 'ls -1 /etc/systemd/network/*lockstep* /etc/NetworkManager/system-connections/*lockstep* /etc/network/interfaces.d/*lockstep* 2>/dev/null'],
    {
      encoding: 'utf8',
    },
  );
  return r.stdout.split('\n').filter(Boolean);
}

/** What a link setup produced, without the figures that differ from run to run. */
export function linkShape(s: LinkStatus): unknown {
  if (s.state !== 'up') return s;
  const { measured, notes, ...rest } = s;
  return { ...rest, measuredTool: measured?.tool ?? null, notes: notes.filter((n) => !/Cable probe heard|Throughput/.test(n)) };
}

export function mtuOf(h: LabHost, nic: string): number {
  const r = spawnSync('ip', ['-n', h.netns, '-j', 'link', 'show', 'dev', nic], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as { mtu: number }[])[0]!.mtu;
}
