/**
 * Pure: what the host agent runs with — its config file, its failover commands, its systemd unit,
 * and the exact argv that starts or stops it. No I/O here; every value is validated before it is
 * written into a file or a command, so nothing from outside reaches a shell or the agent's argv
 * splitter unchecked.
 */
import { LockstepError } from '../contract/index.js';
import { isIpv4 } from '../net/ipv4.js';
import { vmPaths, HOST_PATHS, type VmFiles } from '../hosts/vm-layout.js';

/** Fixed places on a host (private per host in the virtual lab: /var/lib/lockstep, /etc/lockstep, /run/lockstep). */
export const AGENT_PATHS = {
  dir: '/var/lib/lockstep/agent',
  agent: '/var/lib/lockstep/agent/lockstep-agent',
  failover: '/var/lib/lockstep/agent/colo-failover',
  log: '/var/lib/lockstep/agent/agent.log',
  config: '/etc/lockstep/agent.conf',
  key: '/etc/lockstep/agent.key',
  socket: '/run/lockstep/agent.sock',
  pid: '/run/lockstep/agent.pid',
  unitName: 'lockstep-agent.service',
  unit: '/etc/systemd/system/lockstep-agent.service',
} as const;

export const AGENT_PORT = 7788;
export const WITNESS_PORT = 7790;

export const AGENT_DEFAULTS = { intervalMs: 20, timeoutMs: 300, rearmMs: 1000, actionTimeoutMs: 30_000 } as const;

export interface AgentPlan {
  role: 'primary' | 'secondary';
  cluster: string;
  crossoverLocal: string;
  crossoverPeer: string;
  publicLocal: string;
  publicPeer: string;
  /** the witness as this host reaches it: IPv4:port */
  witness: string;
  /** which QEMU file set (pid, QMP sockets) the VM on this host uses */
  vmFiles: VmFiles;
  /** primary only: its replication node (replicationN; its NBD node is nbdN) */
  replNode?: string;
  port?: number;
  intervalMs?: number;
  timeoutMs?: number;
  rearmMs?: number;
  actionTimeoutMs?: number;
}

const CLUSTER = /^[A-Za-z0-9._-]{1,16}$/;
const NODE = /^[A-Za-z0-9_.-]{1,64}$/;
/** what the agent's argv splitter takes literally (no quotes, blanks or escapes needed) */
const PLAIN = /^[A-Za-z0-9._/:-]+$/;

function bad(what: string, value: unknown): never {
  throw new LockstepError({
    code: 'bad-agent-config',
    message: `Refusing to write an agent config with ${what} ${JSON.stringify(String(value).slice(0, 60))}.`,
  });
}

export const validCluster = (s: string): boolean => CLUSTER.test(s);

export function parseHostPort(s: string): { address: string; port: number } | null {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(s);
  if (!m || !isIpv4(m[1]!)) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { address: m[1]!, port } : null;
}

const ms = (name: string, v: number, min: number, max: number): number => (Number.isInteger(v) && v >= min && v <= max ? v : bad(name, v));

/** The colo-failover argv the agent runs for an action on this host (absolute, no shell). */
export function failoverArgv(p: Pick<AgentPlan, 'role' | 'vmFiles' | 'replNode'>): string[] {
  const f = vmPaths(HOST_PATHS.run, p.vmFiles);
  if (p.role === 'secondary') {
    // the second monitor: the app itself never uses a secondary's, so the agent never waits behind it
    return [AGENT_PATHS.failover, '--side', 'secondary', '--qmp', f.qmpOob];
  }
  const repl = p.replNode ?? 'replication0';
  if (!NODE.test(repl)) bad('the replication node', repl);
  return [AGENT_PATHS.failover, '--side', 'primary', '--qmp', f.qmp, '--qmp-oob', f.qmpOob, '--repl-node', repl];
}

/** The agent's config file (key = value). Throws on any value that is not what it should be. */
export function renderAgentConfig(p: AgentPlan): string {
  if (p.role !== 'primary' && p.role !== 'secondary') bad('the role', p.role);
  if (!CLUSTER.test(p.cluster)) bad('the cluster id', p.cluster);
  for (const [name, ip] of [
    ['crossover_local', p.crossoverLocal],
    ['crossover_peer', p.crossoverPeer],
    ['public_local', p.publicLocal],
    ['public_peer', p.publicPeer],
  ] as const)
    if (!isIpv4(ip)) bad(`${name} =`, ip);
  if (p.crossoverLocal === p.crossoverPeer || p.publicLocal === p.publicPeer) bad('the same address on both ends of a path', p.crossoverLocal);
  if (!parseHostPort(p.witness)) bad('the witness', p.witness);
  const port = ms('the heartbeat port', p.port ?? AGENT_PORT, 1, 65535);
  const interval = ms('interval_ms', p.intervalMs ?? AGENT_DEFAULTS.intervalMs, 5, 1000);
  const timeout = ms('timeout_ms', p.timeoutMs ?? AGENT_DEFAULTS.timeoutMs, 50, 60_000);
  if (timeout < 3 * interval) bad('timeout_ms below 3 heartbeats:', timeout);
  const rearm = ms('rearm_ms', p.rearmMs ?? AGENT_DEFAULTS.rearmMs, 0, 600_000);
  const actionTimeout = ms('action_timeout_ms', p.actionTimeoutMs ?? AGENT_DEFAULTS.actionTimeoutMs, 1000, 600_000);
  const cmd = failoverArgv(p);
  for (const a of cmd) if (!PLAIN.test(a)) bad('a command argument', a);
  const lines = [
    '# lockstep-agent: written by Lockstep Lab (`lockstep agent deploy`). Deploy again instead of editing.',
    `role = ${p.role}`,
    `cluster_id = ${p.cluster}`,
    `secret_file = ${AGENT_PATHS.key}`,
    `crossover_local = ${p.crossoverLocal}:${port}`,
    `crossover_peer = ${p.crossoverPeer}:${port}`,
    `public_local = ${p.publicLocal}:${port}`,
    `public_peer = ${p.publicPeer}:${port}`,
    `witness = ${p.witness}`,
    `interval_ms = ${interval}`,
    `timeout_ms = ${timeout}`,
    `rearm_ms = ${rearm}`,
    `action_timeout_ms = ${actionTimeout}`,
    '# silent and never acting while the local QEMU is not running: a killed VM looks like a dead host to the peer',
    `vm_pidfile = ${vmPaths(HOST_PATHS.run, p.vmFiles).pid}`,
  ];
  if (p.role === 'secondary') lines.push('# the primary is gone (witness agrees): take over', `failover_cmd = ${cmd.join(' ')}`);
  else
    lines.push(
      '# the secondary is gone (witness agrees): continue alone',
      `continue_cmd = ${cmd.join(' ')}`,
      '# crossover cut, secondary alive on the public path: never two primaries; the primary serves alone (unprotected)',
      `degraded_cmd = ${cmd.join(' ')}`,
    );
  lines.push(`status_socket = ${AGENT_PATHS.socket}`, `log_file = ${AGENT_PATHS.log}`, '');
  return lines.join('\n');
}

/** A systemd unit for hosts where systemd runs the host (not a network namespace of it). */
export function renderUnit(): string {
  return [
    '[Unit]',
    'Description=Lockstep Lab host agent (COLO failover with heartbeats and a witness)',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    `ExecStart=${AGENT_PATHS.agent} --config ${AGENT_PATHS.config}`,
    // a dead agent looks like a dead host to its peer: restart at once (a restart is confirmed within a heartbeat)
    'Restart=always',
    'RestartSec=0',
    'Nice=-10',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * Where systemd does not run the host (the virtual lab's namespace hosts, containers): a small
 * supervisor started in its own session restarts the agent if it dies (as Restart=always would)
 * and stops it on SIGTERM. Constant script; paths come in as arguments.
 */
const SUPERVISOR =
  'exec </dev/null >>"$4" 2>&1; echo $$ >"$1"; trap \'kill "$c" 2>/dev/null; wait "$c" 2>/dev/null; rm -f "$1"; exit 0\' TERM INT; ' +
  'while :; do "$2" --config "$3" </dev/null >>"$4" 2>&1 & c=$!; wait "$c"; sleep 0.2; done';

export function directStartArgv(): string[] {
  return ['setsid', '-f', 'sh', '-c', SUPERVISOR, 'lockstep-agent-supervisor', AGENT_PATHS.pid, AGENT_PATHS.agent, AGENT_PATHS.config, AGENT_PATHS.log];
}

/**
 * Is systemd the init of THIS host? Only when it runs and we share its network and mount
 * namespaces: a namespace host of the virtual lab sees the machine's /run/systemd but a unit
 * started there would run outside the host. Prints one word: systemd | direct.
 */
export const INIT_PROBE =
  'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 && ' +
  '[ "$(readlink /proc/1/ns/net)" = "$(readlink /proc/self/ns/net)" ] && ' +
  '[ "$(readlink /proc/1/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]; then echo systemd; else echo direct; fi';

/** A fresh per-pair secret as written to secret_file (its hex text is the key: 64 bytes for 32 random ones). */
export function secretText(bytes: Uint8Array): string {
  if (bytes.length < 16) throw new LockstepError({ code: 'bad-secret', message: 'The agent secret must be at least 16 bytes.' });
  return `${Buffer.from(bytes).toString('hex')}\n`;
}

/** A cluster id from random bytes: ls- + 12 hex digits (15 characters, within the agent's 16). */
export function clusterId(bytes: Uint8Array): string {
  return `ls-${Buffer.from(bytes.slice(0, 6)).toString('hex')}`;
}
