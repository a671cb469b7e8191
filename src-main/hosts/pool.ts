import type { HostDTO } from '../contract/hosts.js';
import { hostId, SshSession } from './ssh-session.js';

/**
 * One kept-alive SSH connection per host identity (address:port), shared by all
 * operations; a dropped connection is re-opened with back-off on next use.
 */
export class SessionPool {
  private readonly sessions = new Map<string, Promise<SshSession>>();

  async get(h: Pick<HostDTO, 'address' | 'port' | 'user' | 'keyFile' | 'fingerprint' | 'sudo'>): Promise<SshSession> {
    const id = hostId(h);
    const existing = this.sessions.get(id);
    if (existing) {
      const s = await existing.catch(() => null);
      if (s && s.connected && s.target.fingerprint === h.fingerprint) return s;
      s?.dispose();
      this.sessions.delete(id);
    }
    const p = this.connectWithBackoff(h);
    this.sessions.set(id, p);
    p.catch(() => this.sessions.delete(id));
    return p;
  }

  private async connectWithBackoff(h: Pick<HostDTO, 'address' | 'port' | 'user' | 'keyFile' | 'fingerprint' | 'sudo'>): Promise<SshSession> {
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      try {
        return await SshSession.connect({ address: h.address, port: h.port, user: h.user, keyFile: h.keyFile, fingerprint: h.fingerprint, sudo: h.sudo });
      } catch (e) {
        const code = (e as { code?: string }).code;
        // never retry a security or configuration error, only transient network ones
        if (attempt >= 3 || !['ssh-refused', 'ssh-timeout', 'host-unreachable', 'ssh-failed'].includes(code ?? '')) throw e;
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }

  forget(h: { address: string; port: number }): void {
    const id = hostId(h);
    void this.sessions.get(id)?.then(
      (s) => s.dispose(),
      () => {},
    );
    this.sessions.delete(id);
  }

  closeAll(): void {
    for (const p of this.sessions.values())
      void p.then(
        (s) => s.dispose(),
        () => {},
      );
    this.sessions.clear();
  }
}
