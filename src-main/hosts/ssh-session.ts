import { NodeSSH, type SSHExecCommandResponse } from 'node-ssh';
import type { ClientChannel } from 'ssh2';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { LockstepError } from '../contract/index.js';
import { keyTypeOfBlob, sha256Fingerprint } from './fingerprint.js';
import { hostCommandLine } from './host-command.js';

export interface SshTarget {
  address: string;
  port: number;
  user: string;
  keyFile?: string;
  /** the pinned fingerprint; undefined only for a first contact that the caller confirms */
  fingerprint?: string;
  /** not root: every command is run through `sudo -n` */
  sudo?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** the connection went away before the command reported an exit status: its result is unknown */
  dropped?: true;
}

/** The error for a command whose connection dropped: the host, the command, and how to go on. */
export function droppedError(where: string, command: string, cause?: string): LockstepError {
  return new LockstepError({
    code: 'ssh-dropped',
    message: `The SSH connection to ${where} dropped while \`${command.slice(0, 120)}\` ran: its result is unknown.`,
    ...(cause ? { cause } : {}),
    fix: 'Check that the host is up and answers SSH, then run the same lockstep command again: it checks first what is already done.',
    host: where,
  });
}

/** Identity of a host everywhere: address + port (+ its key). */
export const hostId = (t: { address: string; port: number }) => `${t.address}:${t.port}`;

/**
 * One SSH connection to a host with a pinned host key. Commands are argv arrays,
 * quoted by the one shared function; success is judged by exit code, not stderr.
 */
export class SshSession {
  private readonly ssh = new NodeSSH();
  seenFingerprint?: string;
  seenKeyType?: string;

  private constructor(readonly target: SshTarget) {}

  static async connect(target: SshTarget, opts: { timeoutMs?: number; allowUnpinned?: boolean } = {}): Promise<SshSession> {
    const s = new SshSession(target);
    const where = hostId(target);
    if (!target.fingerprint && !opts.allowUnpinned) {
      throw new LockstepError({ code: 'host-key-unknown', message: `No pinned host key for ${where}.`, fix: `lockstep hosts add ${where}`, host: where });
    }
    let mismatch: string | undefined;
    let privateKey: string | undefined;
    if (target.keyFile) {
      try {
        privateKey = readFileSync(target.keyFile, 'utf8');
      } catch (e) {
        throw new LockstepError({
          code: 'key-file-unreadable',
          message: `Cannot read the SSH key ${target.keyFile}.`,
          cause: (e as Error).message,
          fix: 'Give a readable private key with --key FILE',
          host: where,
        });
      }
    }
    try {
      await s.ssh.connect({
        host: target.address,
        port: target.port,
        username: target.user,
        privateKey,
        agent: privateKey ? undefined : process.env.SSH_AUTH_SOCK,
        readyTimeout: opts.timeoutMs ?? 10_000,
        keepaliveInterval: 5_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const fp = sha256Fingerprint(key);
          s.seenFingerprint = fp;
          s.seenKeyType = keyTypeOfBlob(key);
          if (target.fingerprint && fp !== target.fingerprint) {
            mismatch = fp;
            return false;
          }
          return true;
        },
      } as Parameters<NodeSSH['connect']>[0]);
    } catch (e) {
      if (mismatch) {
        throw new LockstepError({
          code: 'host-key-changed',
          message: `The host key of ${where} has CHANGED: pinned ${target.fingerprint}, offered ${mismatch}. Refusing to connect.`,
          cause: 'The host was reinstalled, its keys regenerated — or someone is intercepting the connection.',
          fix: `If you know why the key changed: lockstep hosts forget ${where} && lockstep hosts add ${where} --accept-fingerprint ${mismatch}`,
          host: where,
        });
      }
      throw describeConnectError(e as Error & { code?: string; level?: string }, target);
    }
    // a connection reset after connect (a host that died or rebooted) must not crash the app:
    // the session just becomes disconnected, and the pool opens a new one on next use
    s.ssh.connection?.on('error', () => s.dispose());
    return s;
  }

  /**
   * Learns a server's host key WITHOUT authenticating to it (the handshake is
   * aborted at the key check), for a first contact the user must confirm.
   */
  static async probeHostKey(address: string, port: number, timeoutMs = 8000): Promise<{ fingerprint: string; keyType: string }> {
    const ssh = new NodeSSH();
    let seen: { fingerprint: string; keyType: string } | undefined;
    try {
      await ssh.connect({
        host: address,
        port,
        username: 'lockstep-probe',
        readyTimeout: timeoutMs,
        hostVerifier: (key: Buffer) => {
          seen = { fingerprint: sha256Fingerprint(key), keyType: keyTypeOfBlob(key) };
          return false;
        },
      } as Parameters<NodeSSH['connect']>[0]);
    } catch (e) {
      if (!seen) throw describeConnectError(e as Error & { code?: string }, { address, port, user: '' });
    } finally {
      ssh.dispose();
    }
    if (!seen) throw new LockstepError({ code: 'ssh-failed', message: `${address}:${port} offered no host key.` });
    return seen;
  }

  /** Runs argv on the host; never throws for a non-zero exit (see `check`). */
  async exec(argv: readonly (string | number)[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const cmd = hostCommandLine(argv, this.target.sudo);
    return this.execRaw(cmd, opts);
  }

  /** For fixed, constant scripts only (no interpolation): run through `sh -c`. */
  async script(text: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return this.exec(['sh', '-c', text], opts);
  }

  /** Like exec, but a non-zero exit becomes an error naming the command. */
  async check(argv: readonly (string | number)[], opts: { stdin?: string; timeoutMs?: number; fix?: string } = {}): Promise<string> {
    const r = await this.exec(argv, opts);
    if (r.dropped) throw droppedError(hostId(this.target), argv.join(' '));
    if (r.code !== 0) {
      throw new LockstepError({
        code: 'remote-command-failed',
        message: `\`${argv.join(' ').slice(0, 120)}\` failed on ${hostId(this.target)} (exit ${r.code}).`,
        cause: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 500),
        fix: opts.fix,
        host: hostId(this.target),
      });
    }
    return r.stdout;
  }

  /** An interactive login shell on a PTY (host shells in the Consoles view). */
  async shell(cols: number, rows: number): Promise<ClientChannel> {
    return this.ssh.requestShell({ term: 'xterm-256color', cols, rows });
  }

  /** A long-lived command whose stdin/stdout are the returned stream (e.g. a VM's serial socket). */
  async stream(argv: readonly (string | number)[], pty?: { cols: number; rows: number }): Promise<ClientChannel> {
    const conn = this.ssh.connection;
    if (!conn) throw new LockstepError({ code: 'ssh-closed', message: `The SSH connection to ${hostId(this.target)} is closed.`, host: hostId(this.target) });
    const cmd = hostCommandLine(argv, this.target.sudo);
    return new Promise((resolve, reject) => {
      conn.exec(cmd, pty ? { pty: { term: 'xterm-256color', cols: pty.cols, rows: pty.rows } } : {}, (err, ch) => (err ? reject(err) : resolve(ch)));
    });
  }

  /**
   * A byte stream to a unix socket on the host (e.g. a VM's VNC server): OpenSSH's streamlocal
   * forwarding over this connection. A non-root login (sudo) cannot reach root's sockets that way:
   * then socat under sudo carries the bytes.
   */
  async openUnixSocket(path: string): Promise<Duplex> {
    const conn = this.ssh.connection;
    if (!conn) throw new LockstepError({ code: 'ssh-closed', message: `The SSH connection to ${hostId(this.target)} is closed.`, host: hostId(this.target) });
    if (this.target.sudo) return this.stream(['socat', '-', `UNIX-CONNECT:${path}`]);
    return new Promise((resolve, reject) => {
      conn.openssh_forwardOutStreamLocal(path, (err, ch) => (err ? reject(err) : resolve(ch)));
    });
  }

  async putFile(local: string, remote: string): Promise<void> {
    await this.ssh.putFile(local, remote);
  }

  async getFile(remote: string, local: string): Promise<void> {
    await this.ssh.getFile(local, remote);
  }

  get connected(): boolean {
    return this.ssh.isConnected();
  }

  dispose(): void {
    const conn = this.ssh.connection;
    this.ssh.dispose();
    // a peer that vanished (cable cut, then powered off) never answers the goodbye: the socket
    // would otherwise stay open for the kernel's 15 min of retransmissions, and the CLI with it
    if (conn) setTimeout(() => conn.destroy(), 1000).unref();
  }

  private async execRaw(cmd: string, opts: { stdin?: string; timeoutMs?: number }): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new LockstepError({
              code: 'remote-timeout',
              message: `A command on ${hostId(this.target)} took longer than ${timeoutMs / 1000} s.`,
              cause: cmd.slice(0, 200),
              host: hostId(this.target),
            }),
          ),
        timeoutMs,
      );
    });
    let r: SSHExecCommandResponse;
    try {
      r = await Promise.race([this.ssh.execCommand(cmd, { stdin: opts.stdin }), timeout]);
    } catch (e) {
      if (e instanceof LockstepError) throw e;
      // not connected any more, or the channel could not be opened on a dying connection
      this.ssh.dispose();
      throw droppedError(hostId(this.target), cmd, (e as Error).message);
    } finally {
      clearTimeout(timer);
    }
    // the channel closed with neither an exit code nor a signal: the connection went away (sshd
    // killed, host gone); the pool opens a new one on next use
    if (r.code === null && r.signal === null) {
      this.ssh.dispose();
      return { code: -1, stdout: r.stdout, stderr: r.stderr || 'the SSH connection dropped before the command ended', dropped: true };
    }
    return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
  }
}

function describeConnectError(e: Error & { code?: string; level?: string }, t: SshTarget): LockstepError {
  const where = hostId(t);
  const m = e.message;
  if (e.code === 'ECONNREFUSED')
    return new LockstepError({
      code: 'ssh-refused',
      message: `Nothing accepts SSH connections on ${where}.`,
      cause: m,
      fix: `Check the address and port; on the host: systemctl enable --now ssh`,
      host: where,
    });
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH')
    return new LockstepError({
      code: 'host-unreachable',
      message: `${where} is unreachable.`,
      cause: m,
      fix: 'Check the address, the cable and that the host is powered on.',
      host: where,
    });
  if (/timed out/i.test(m))
    return new LockstepError({
      code: 'ssh-timeout',
      message: `${where} did not answer SSH in time.`,
      cause: m,
      fix: 'Check that the host is up and that no firewall drops port ' + t.port,
      host: where,
    });
  if (e.level === 'client-authentication' || /authentication/i.test(m))
    return new LockstepError({
      code: 'ssh-auth-failed',
      message: `${where} refused the key for user ${t.user}.`,
      cause: m,
      fix: `Install your public key on the host: ssh-copy-id -p ${t.port} ${t.user}@${t.address}`,
      host: where,
    });
  return new LockstepError({ code: 'ssh-failed', message: `SSH to ${where} failed: ${m}`, cause: e.code, host: where });
}
