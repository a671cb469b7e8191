/**
 * The two hosts of a link or mirror, as the services drive them: SSH sessions from the pool,
 * argv arrays only (quoted by hosts/shell-quote), success judged by exit code.
 * Shared by link-service and mirror-service; no decisions here.
 */
import type { HostDTO } from '../contract/hosts.js';
import { LockstepError } from '../contract/index.js';
import { readSshBanner } from './banner.js';
import type { HostsService } from './hosts-service.js';
import { droppedError, type ExecResult, type SshSession } from './ssh-session.js';
import { tolerated, type Argv, type HostCommand, type Side } from './command.js';

export const SIDES = ['A', 'B'] as const;

/** Separates the sections of one batched read (several commands in one SSH round trip). */
export const SECTION = '@@lockstep-section@@';

export function err(code: string, message: string, o: { fix?: string; cause?: string; host?: string; step?: string } = {}): LockstepError {
  return new LockstepError({ code, message, ...o });
}
export const other = (s: Side): Side => (s === 'A' ? 'B' : 'A');

export interface ExecOptions {
  stdin?: string;
  timeoutMs?: number;
}

/** Resolves two host references (name, address or address:port) to two different added hosts. */
export function resolvePair(hosts: HostsService, a: string, b: string): Record<Side, HostDTO> {
  const A = hosts.resolve(a);
  const B = hosts.resolve(b);
  if (A.id === B.id) {
    throw new LockstepError({
      code: 'same-host',
      message: `Both ends are ${A.name} (${A.hostId}).`,
      fix: 'Name two different hosts, e.g. `lockstep link setup hostA hostB` (`lockstep hosts list` shows them).',
    });
  }
  return { A, B };
}

export class HostPair {
  readonly hosts: Record<Side, HostDTO>;

  constructor(
    private readonly service: HostsService,
    ids: Record<Side, string>,
  ) {
    this.hosts = { A: service.resolve(ids.A), B: service.resolve(ids.B) };
  }

  get names(): Record<Side, string> {
    return { A: this.hosts.A.name, B: this.hosts.B.name };
  }

  name(side: Side): string {
    return this.hosts[side].name;
  }

  /** Which side is this host reference (name, address, address:port)? null when neither. */
  sideOf(ref: string): Side | null {
    const h = this.service.resolve(ref);
    return h.id === this.hosts.A.id ? 'A' : h.id === this.hosts.B.id ? 'B' : null;
  }

  session(side: Side): Promise<SshSession> {
    return this.service.session(this.hosts[side]);
  }

  /**
   * Does the host's sshd answer at all (one TCP round trip, no login)? Used where a dead host is
   * an expected state (status, failover), so a dead host costs 2 s instead of SSH's retries.
   */
  async reachable(side: Side, timeoutMs = 2000): Promise<boolean> {
    const h = this.hosts[side];
    return (await readSshBanner(h.address, h.port, timeoutMs)) !== null;
  }

  /** Runs argv on one host; a non-zero exit is a result, a dropped connection is an error (no result to judge by). */
  async exec(side: Side, argv: readonly (string | number)[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await (await this.session(side)).exec(argv, opts);
    if (r.dropped) throw this.failure(side, argv, r);
    return r;
  }

  /** Like exec, but a non-zero exit throws, naming the host, the command, the step and the fix. */
  async check(side: Side, argv: readonly (string | number)[], opts: ExecOptions & { step?: string; fix?: string; code?: string } = {}): Promise<string> {
    const r = await this.exec(side, argv, opts);
    if (r.code !== 0) throw this.failure(side, argv, r, opts);
    return r.stdout;
  }

  /** One planned command; a failure whose stderr the command tolerates counts as "already so". */
  async run(c: HostCommand, step: string, timeoutMs?: number): Promise<ExecResult> {
    const r = await this.exec(c.side, c.argv, { stdin: c.stdin, timeoutMs });
    if (r.code !== 0 && !tolerated(c, r.stderr)) throw this.failure(c.side, c.argv, r, { step, why: c.why });
    return r;
  }

  async runAll(cmds: readonly HostCommand[], step: string): Promise<void> {
    for (const c of cmds) await this.run(c, step);
  }

  failure(
    side: Side,
    argv: Argv | readonly (string | number)[],
    r: ExecResult,
    o: { step?: string; fix?: string; code?: string; why?: string; again?: string } = {},
  ): LockstepError {
    const h = this.hosts[side];
    if (r.dropped) {
      const e = droppedError(`${h.name} (${h.hostId})`, `${o.why ? `${o.why}: ` : ''}${argv.join(' ')}`);
      return new LockstepError({
        ...e.toDTO(),
        host: h.hostId,
        ...(o.again ? { fix: `Check that ${h.name} is up and answers SSH, then: ${o.again}` } : {}),
        ...(o.step ? { step: o.step } : {}),
      });
    }
    // a full disk is not the command's fault: say so, and what to do about it
    if (/No space left on device|Disk quota exceeded/i.test(`${r.stderr}\n${r.stdout}`))
      return new LockstepError({
        code: 'host-disk-full',
        message: `${h.name} has no space left on the file system it writes to: ${o.why ? `${o.why}: ` : ''}\`${argv.join(' ').slice(0, 120)}\` failed (exit ${r.code}).`,
        cause: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 500),
        fix: `Free space on ${h.name} (\`df -h\` there shows which file system is full)${o.again ? `, then: ${o.again}` : ', then run the same command again'}.`,
        host: h.hostId,
        ...(o.step ? { step: o.step } : {}),
      });
    return new LockstepError({
      code: o.code ?? 'remote-command-failed',
      message: `${o.why ? `${o.why}: ` : ''}\`${argv.join(' ').slice(0, 160)}\` failed on ${h.name} (exit ${r.code}).`,
      cause: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 500),
      ...(o.fix ? { fix: o.fix } : {}),
      host: h.hostId,
      ...(o.step ? { step: o.step } : {}),
    });
  }
}

/** Polls `cond` every `intervalMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function pollUntil<T>(
  cond: () => Promise<T | undefined>,
  o: { timeoutMs: number; intervalMs: number; signal?: AbortSignal },
): Promise<T | undefined> {
  const end = Date.now() + o.timeoutMs;
  for (;;) {
    const v = await cond();
    if (v !== undefined) return v;
    if (Date.now() >= end || o.signal?.aborted) return undefined;
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
}

/**
 * Runs `f` for A and B concurrently and waits for BOTH to settle before failing with the first
 * error, so no half of a pair goes on talking to a host after the plan has already failed.
 */
export async function bothSides<T>(f: (side: Side) => Promise<T>): Promise<[T, T]> {
  const [a, b] = await Promise.allSettled([f('A'), f('B')]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}

/**
 * A remote file's exact content (exec output arrives trimmed, which would make a file ending in a
 * newline never equal the content we wrote): `cat` followed by a sentinel that is cut off again.
 */
export async function readFileExact(pair: HostPair, side: Side, path: string): Promise<ExecResult> {
  const r = await pair.exec(side, ['sh', '-c', 'cat -- "$1" && printf %s "$2"', 'sh', path, FILE_END]);
  if (r.code !== 0) return r;
  return { ...r, stdout: r.stdout.endsWith(FILE_END) ? r.stdout.slice(0, -FILE_END.length) : r.stdout };
}

const FILE_END = '@@lockstep-eof@@';
