/**
 * The host agent on one host, over SSH: facts (addresses, init system), upload, config, start,
 * stop, status. Adapters only: every command is an argv; the few shell snippets are constants
 * that take their values as arguments.
 */
import { randomBytes } from 'node:crypto';
import { LockstepError } from '../contract/index.js';
import { hostId, type SshSession } from '../hosts/ssh-session.js';
import { localSha256, remoteSha256, verifyUpload } from '../hosts/remote-files.js';
import { isIpv4 } from '../net/ipv4.js';
import { runLocal } from '../hosts/local-exec.js';
import { AGENT_PATHS, INIT_PROBE, directStartArgv, renderUnit } from './agent-config.js';
import { firstJsonLine } from './agent-status.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type InitKind = 'systemd' | 'direct';

/**
 * How this host sees us and itself: sshd's SSH_CONNECTION (client ip, client port, server ip,
 * server port); where sudo hides it, the host's address as added and the source address this
 * machine routes to it from.
 */
export async function connectionAddresses(s: SshSession): Promise<{ desktop: string; host: string }> {
  const out = (await s.exec(['printenv', 'SSH_CONNECTION'])).stdout.trim().split(/\s+/);
  let [desktop, , host] = out;
  if (!desktop || !host || !isIpv4(desktop) || !isIpv4(host)) {
    host = s.target.address;
    const route = isIpv4(host) ? await runLocal(['ip', '-j', 'route', 'get', host]) : null;
    desktop = route?.code === 0 ? (JSON.parse(route.stdout) as { prefsrc?: string }[])[0]?.prefsrc : undefined;
  }
  if (!desktop || !host || !isIpv4(desktop) || !isIpv4(host))
    throw new LockstepError({
      code: 'agent-no-ipv4',
      message: `${hostId(s.target)} is reached over ${out.join(' ') || 'an unknown connection'}: the agent needs IPv4 addresses on the public network.`,
      host: hostId(s.target),
      fix: 'Add the host by its IPv4 address (lockstep hosts add 192.168.1.11)',
    });
  return { desktop, host };
}

export async function initKind(s: SshSession): Promise<InitKind> {
  return (await s.check(['sh', '-c', INIT_PROBE])).trim() === 'systemd' ? 'systemd' : 'direct';
}

/** Writes a file atomically (temp + rename) with a mode, from stdin: the text never appears in a command line. */
export async function writeRemoteFile(s: SshSession, path: string, text: string, mode: '0600' | '0644'): Promise<void> {
  await s.check(['sh', '-c', 'umask 077; mkdir -p "$(dirname "$1")" && cat >"$1.new" && chmod "$2" "$1.new" && mv -f "$1.new" "$1"', 'sh', path, mode], {
    stdin: text,
  });
}

/**
 * Puts a local binary at `remote` unless the host's copy is identical (SHA-256 before and after).
 * Uploaded beside it and renamed over it, so a running agent's binary is replaced, not overwritten
 * in place (that would fail with 'text file busy').
 */
export async function installBinary(s: SshSession, local: string, remote: string, known?: string): Promise<boolean> {
  const want = localSha256(local);
  if ((known === undefined ? await remoteSha256(s, remote) : known) === want) return false;
  const tmp = `/tmp/lockstep-upload-${randomBytes(6).toString('hex')}`;
  await s.putFile(local, tmp);
  try {
    await s.check(['sh', '-c', 'mkdir -p "$(dirname "$2")" && install -m 0755 "$1" "$2.new" && mv -f "$2.new" "$2"', 'sh', tmp, remote]);
  } finally {
    await s.exec(['rm', '-f', tmp]);
  }
  await verifyUpload(s, remote, want, 'deploy');
  return true;
}

/** SHA-256 of several files in one round trip (a missing file is absent from the map). */
export async function remoteShas(s: SshSession, files: readonly string[]): Promise<Map<string, string>> {
  const r = await s.exec(['sha256sum', ...files]);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

/** The agent's one status line (exit 3 and state not-running when nothing answers). */
export async function agentStatusJson(s: SshSession): Promise<Record<string, unknown> | null> {
  // no short deadline: a slow SSH round trip must not read as "not running" (and cause a restart)
  const r = await s.exec([AGENT_PATHS.agent, '--once-status', '--status-socket', AGENT_PATHS.socket]);
  return firstJsonLine(r.stdout);
}

/**
 * Disarms the agent until it is restarted (status socket "hold"), so that stopping or restarting
 * one agent, or stopping the VMs, never makes the other act. Resolves true when it was running.
 */
export async function holdAgent(s: SshSession): Promise<boolean> {
  const r = await s.exec([AGENT_PATHS.agent, '--hold', '--status-socket', AGENT_PATHS.socket]);
  const j = firstJsonLine(r.stdout);
  if (!j || j.mode !== 'peer') return false;
  if (j.held !== true || j.armed === true)
    throw new LockstepError({
      code: 'agent-hold-failed',
      message: `The agent on ${hostId(s.target)} did not disarm when asked (state ${String(j.state)}).`,
      host: hostId(s.target),
      fix: `Update it: lockstep agent deploy`,
    });
  return true;
}

/** Does the agent answer on its status socket? (An SSH failure throws: it is not an answer.) */
export async function agentAnswers(s: SshSession): Promise<boolean> {
  const j = await agentStatusJson(s);
  return !!j && j.mode === 'peer';
}

export async function agentLogTail(s: SshSession, lines = 40): Promise<string[]> {
  const r = await s.exec(['tail', '-n', String(lines), AGENT_PATHS.log]);
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** The supervisor's pid (direct start), if it runs. */
async function supervisorPid(s: SshSession): Promise<number | null> {
  const r = await s.exec(['cat', AGENT_PATHS.pid]);
  const pid = Number(r.stdout.trim());
  if (r.code !== 0 || !Number.isInteger(pid) || pid <= 1) return null;
  // only ours: a pid file that outlived its process may name someone else's by now
  const cmd = await s.exec(['cat', `/proc/${pid}/cmdline`]);
  return cmd.code === 0 && cmd.stdout.includes(AGENT_PATHS.agent) && cmd.stdout.includes(AGENT_PATHS.pid) ? pid : null;
}

/** Stops the agent however it was started; "not running" is success. Escalates TERM → KILL. */
export async function stopAgent(s: SshSession, how: InitKind): Promise<'stopped' | 'not-running'> {
  if (how === 'systemd') {
    const active = (await s.exec(['systemctl', 'is-active', '--quiet', AGENT_PATHS.unitName])).code === 0;
    await s.exec(['systemctl', 'disable', '--now', AGENT_PATHS.unitName]);
    return active ? 'stopped' : 'not-running';
  }
  const pid = await supervisorPid(s);
  if (pid === null) return 'not-running';
  await s.exec(['kill', '-TERM', String(pid)]);
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    if ((await s.exec(['kill', '-0', String(pid)])).code !== 0) break;
    await sleep(100);
  }
  if ((await s.exec(['kill', '-0', String(pid)])).code === 0) await s.exec(['kill', '-KILL', String(pid)]);
  await s.exec(['rm', '-f', AGENT_PATHS.pid]);
  return 'stopped';
}

/** (Re)starts the agent with the config already in place, and waits until its status socket answers. */
export async function startAgent(s: SshSession, how: InitKind): Promise<void> {
  await stopAgent(s, how);
  if (how === 'systemd') {
    await writeRemoteFile(s, AGENT_PATHS.unit, renderUnit(), '0644');
    await s.check(['systemctl', 'daemon-reload']);
    await s.check(['systemctl', 'enable', '--now', AGENT_PATHS.unitName]);
  } else {
    await s.check(directStartArgv(), { timeoutMs: 15_000 });
  }
  const until = Date.now() + 10_000;
  do {
    if (await agentAnswers(s)) return;
    await sleep(200);
  } while (Date.now() < until);
  const log = await agentLogTail(s, 5);
  await stopAgent(s, how).catch(() => undefined);
  throw new LockstepError({
    code: 'agent-did-not-start',
    message: `The agent on ${hostId(s.target)} did not start.`,
    cause: log.join(' | ').slice(-500),
    host: hostId(s.target),
    fix: `Read ${AGENT_PATHS.log} on the host; check the config with ${AGENT_PATHS.agent} --check-config --config ${AGENT_PATHS.config}`,
  });
}

/** What deploy wrote and started last time: SHA-256 of the config, next to the running agent. */
export const STARTED_MARK = '/run/lockstep/agent.started';

export async function startedWith(s: SshSession): Promise<string | null> {
  const r = await s.exec(['cat', STARTED_MARK]);
  return r.code === 0 ? r.stdout.trim() : null;
}

export async function markStarted(s: SshSession, configSha: string): Promise<void> {
  await writeRemoteFile(s, STARTED_MARK, `${configSha}\n`, '0644');
}

/** Validates the config on the host with the agent itself (also reads the secret file). */
export async function checkConfig(s: SshSession): Promise<void> {
  await s.check([AGENT_PATHS.agent, '--check-config', '--config', AGENT_PATHS.config], {
    fix: `${AGENT_PATHS.agent} --check-config --config ${AGENT_PATHS.config}`,
  });
}

export { localSha256 };
