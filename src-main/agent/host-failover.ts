/**
 * The one failover sequence, run by hand: the host's own `colo-failover` (the binary the agents
 * run at 3 am), started over SSH. Used by a manual `lockstep failover`, by continue-alone when a
 * stalled secondary is replaced, and nowhere else: drills let the armed agents act.
 */
import { LockstepError } from '../contract/index.js';
import type { SshSession } from '../hosts/ssh-session.js';
import { AGENT_PATHS, failoverArgv } from './agent-config.js';
import type { AgentPair } from './agent-pair.js';
import { installBinary } from './remote-agent.js';

export interface HostFailoverResult {
  /** how long colo-failover ran (host side, ms) */
  ms: number;
  /** its step lines (stderr) */
  log: string[];
}

/**
 * Runs colo-failover on one host of the pair: `secondary` takes over (its primary is dead),
 * `primary` continues alone (its secondary is gone). The binary is installed first if the host
 * does not have this build. Throws with colo-failover's last lines when it exits non-zero.
 */
export async function runHostFailover(s: SshSession, bin: string, side: 'primary' | 'secondary', r: AgentPair, host: string): Promise<HostFailoverResult> {
  await installBinary(s, bin, AGENT_PATHS.failover);
  const argv = failoverArgv({ role: side, vmFiles: r.vmFiles[side], replNode: r.replNode });
  const t0 = Date.now();
  const out = await s.exec(argv);
  const ms = Date.now() - t0;
  const log = `${out.stdout}${out.stderr}`.split('\n').filter((l) => l.trim() !== '');
  if (out.code !== 0)
    throw new LockstepError({
      code: side === 'secondary' ? 'failover-failed' : 'alone-failed',
      message: `colo-failover --side ${side} failed on ${host} (exit ${out.code}).`,
      cause: log.slice(-4).join('\n'),
      fix: 'lockstep lockstep status (then lockstep agent status for the host log)',
    });
  return { ms, log };
}
