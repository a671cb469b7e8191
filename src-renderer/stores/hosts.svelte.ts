import type { DiscoveryResult, ErrorDTO, HostDTO, ProgressDTO } from '../../src-main/contract/index.js';
import { api } from '../api.js';

/** Added hosts, the last discovery and its live progress. */
class Hosts {
  list = $state<HostDTO[]>([]);
  discovery = $state<DiscoveryResult | null>(null);
  progress = $state<ProgressDTO | null>(null);
  scanning = $state(false);
  /** the first hosts.list has answered */
  loaded = $state(false);
  error = $state<ErrorDTO | null>(null);
  /** first contact waiting for the user's confirmation: hostId → error with the fingerprint */
  pending = $state<Record<string, { fingerprint: string; message: string }>>({});
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    api.onEvent((e) => {
      if (e.type === 'discovery-progressed') this.progress = e.progress;
    });
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const r = await api.call('hosts.list', {});
    if (r.ok) this.list = r.value;
    this.loaded = true;
  }

  async discover(cidr?: string): Promise<void> {
    this.scanning = true;
    this.error = null;
    this.progress = { fraction: 0, message: 'Starting scan' };
    // a plain address is one host: scan it as a /32
    const net = cidr && /^\d{1,3}(\.\d{1,3}){3}$/.test(cidr) ? `${cidr}/32` : cidr;
    const r = await api.call('hosts.discover', net ? { cidr: net } : {});
    this.scanning = false;
    this.progress = null;
    if (r.ok) this.discovery = r.value;
    else this.error = r.error;
  }

  /** the login used for an address:port (set by the add-by-address form), kept for the key confirmation */
  private logins: Record<string, { user?: string; keyFile?: string }> = {};

  async add(address: string, port: number, acceptFingerprint?: string, login?: { user?: string; keyFile?: string }): Promise<boolean> {
    this.error = null;
    const key = `${address}:${port}`;
    if (login) this.logins[key] = login;
    const l = this.logins[key] ?? {};
    const r = await api.call('hosts.add', {
      address,
      port,
      ...(l.user ? { user: l.user } : {}),
      ...(l.keyFile ? { keyFile: l.keyFile } : {}),
      ...(acceptFingerprint ? { acceptFingerprint } : {}),
    });
    if (r.ok) {
      delete this.pending[key];
      await this.refresh();
      return true;
    }
    const fp = r.error.details?.fingerprint;
    if (r.error.code === 'host-key-unconfirmed' && typeof fp === 'string') this.pending[key] = { fingerprint: fp, message: r.error.message };
    else this.error = r.error;
    return false;
  }

  async addLab(): Promise<void> {
    this.error = null;
    const r = await api.call('hosts.addLab', {});
    if (!r.ok) this.error = r.error;
    await this.refresh();
  }

  async forget(hostId: string): Promise<void> {
    const r = await api.call('hosts.forget', { host: hostId });
    if (!r.ok) this.error = r.error;
    await this.refresh();
  }
}

export const hosts = new Hosts();
