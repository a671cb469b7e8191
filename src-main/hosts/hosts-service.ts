import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EventBus } from '../events/event-bus.js';
import type { DiscoveryResult, HostDTO } from '../contract/hosts.js';
import { LockstepError } from '../contract/index.js';
import type { HostsRepo } from '../store/hosts-repo.js';
import type { Environment } from './environment.js';
import { discover, localSubnets } from './discovery.js';
import { knownFingerprints } from './known-hosts.js';
import type { SessionPool } from './pool.js';
import { parseSshConfig } from './ssh-config.js';
import { hostId, SshSession } from './ssh-session.js';

export interface AddHostInput {
  address: string;
  port: number;
  user: string;
  keyFile?: string;
  acceptFingerprint?: string;
}

/** Discovery, trust (pinned host keys) and the inventory of hosts. */
export class HostsService {
  constructor(private readonly deps: { hosts: HostsRepo; pool: SessionPool; bus: EventBus; lab: Environment; sshDir?: string }) {}

  private get sshDir(): string {
    return this.deps.sshDir ?? join(homedir(), '.ssh');
  }

  list(): HostDTO[] {
    return this.deps.hosts.list();
  }

  resolve(ref: string): HostDTO {
    const h = this.deps.hosts.resolve(ref);
    if (!h)
      throw new LockstepError({
        code: 'unknown-host',
        message: `No host ${JSON.stringify(ref)} has been added.`,
        fix: `lockstep hosts add ${ref.includes(':') ? ref : ref + ':22'}   (lockstep hosts list shows the added ones)`,
      });
    return h;
  }

  /** The added host a reference names, or undefined (never throws). */
  find(ref: string): HostDTO | undefined {
    return this.deps.hosts.resolve(ref) ?? undefined;
  }

  async session(ref: string | HostDTO): Promise<SshSession> {
    const h = typeof ref === 'string' ? this.resolve(ref) : ref;
    const s = await this.deps.pool.get(h);
    this.deps.hosts.touch(h.id);
    return s;
  }

  async discover(i: { cidr?: string; ports: number[] }): Promise<DiscoveryResult> {
    const notes: string[] = [];
    let cidrs: string[];
    // a plain address is one host: scanned as a /32
    if (i.cidr) cidrs = [i.cidr.includes('/') ? i.cidr : `${i.cidr}/32`];
    else {
      const lab = await this.deps.lab.status();
      // with the virtual lab running, its public network is where the hosts are
      cidrs = lab.state === 'up' ? [lab.publicCidr] : localSubnets();
      if (lab.state === 'up') notes.push(`Scanning the virtual lab's network ${lab.publicCidr} (type a network or an address to scan elsewhere).`);
    }
    const cfgFile = join(this.sshDir, 'config');
    const sshConfig = existsSync(cfgFile) ? parseSshConfig(readFileSync(cfgFile, 'utf8'), homedir()) : [];
    if (sshConfig.length) notes.push(`Also probed ${sshConfig.length} host(s) from ${cfgFile}.`);
    notes.push('mDNS: not queried (install avahi-utils and use avahi-browse -rt _ssh._tcp to list announced hosts).');
    const started = Date.now();
    const res = await discover({
      cidrs,
      ports: i.ports,
      sshConfig,
      isKnown: (a, p) => this.deps.hosts.find(a, p) !== undefined,
      onProgress: (progress) => this.deps.bus.emit({ type: 'discovery-progressed', progress }),
    });
    res.notes = [...res.notes, ...notes];
    this.deps.bus.log(
      'info',
      'hosts',
      `Discovery of ${cidrs.join(', ')}: ${res.candidates.length} SSH host(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return res;
  }

  /** First contact: learn the key, check it against known_hosts or the user's confirmation, pin it. */
  async add(i: AddHostInput): Promise<HostDTO> {
    const where = hostId(i);
    const { fingerprint, keyType } = await SshSession.probeHostKey(i.address, i.port);
    const existing = this.deps.hosts.find(i.address, i.port);
    if (existing) {
      if (existing.fingerprint === fingerprint) return existing;
      throw new LockstepError({
        code: 'host-key-changed',
        message: `The host key of ${where} has CHANGED: pinned ${existing.fingerprint}, offered ${fingerprint}.`,
        cause: 'The host was reinstalled, its keys regenerated — or someone is intercepting the connection.',
        fix: `If you know why: lockstep hosts forget ${where} && lockstep hosts add ${where} --accept-fingerprint ${fingerprint}`,
        host: where,
        details: { pinned: existing.fingerprint, offered: fingerprint },
      });
    }
    const kh = join(this.sshDir, 'known_hosts');
    const known = existsSync(kh) ? knownFingerprints(readFileSync(kh, 'utf8'), i.address, i.port) : { keys: [], revoked: [] };
    if (known.revoked.includes(fingerprint)) {
      throw new LockstepError({
        code: 'host-key-revoked',
        message: `${where} offers a host key marked @revoked in ${kh}.`,
        fix: 'Replace the host key on that host.',
        host: where,
      });
    }
    const trustedByKnownHosts = known.keys.some((k) => k.fingerprint === fingerprint);
    if (!trustedByKnownHosts) {
      const sameType = known.keys.filter((k) => k.type === keyType);
      if (sameType.length) {
        throw new LockstepError({
          code: 'host-key-changed',
          message: `${kh} records a different ${keyType} key for ${where}: known ${sameType.map((k) => k.fingerprint).join(', ')}, offered ${fingerprint}.`,
          cause: 'The host was reinstalled — or someone is intercepting the connection.',
          fix: `If you know why: ssh-keygen -R '${i.port === 22 ? i.address : `[${i.address}]:${i.port}`}', then lockstep hosts add ${where} --accept-fingerprint ${fingerprint}`,
          host: where,
          details: { offered: fingerprint, keyType },
        });
      }
      if (!i.acceptFingerprint) {
        throw new LockstepError({
          code: 'host-key-unconfirmed',
          message: `First contact with ${where}: its ${keyType} host key is ${fingerprint}. Confirm it (compare with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the host).`,
          fix: `lockstep hosts add ${where} --accept-fingerprint ${fingerprint}`,
          host: where,
          details: { fingerprint, keyType },
        });
      }
      if (i.acceptFingerprint !== fingerprint) {
        throw new LockstepError({
          code: 'host-key-mismatch',
          message: `${where} offers ${fingerprint}, not the confirmed ${i.acceptFingerprint}. Refusing.`,
          fix: 'Check that you are connecting to the right host; then confirm the key it really has.',
          host: where,
        });
      }
    }
    const keyFile = i.keyFile ?? (await this.labKeyFor(i.address, i.port)) ?? this.defaultKeyFile();
    const s = await SshSession.connect({ address: i.address, port: i.port, user: i.user, keyFile, fingerprint });
    try {
      const uid = (await s.check(['id', '-u'])).trim();
      let sudo = false;
      if (uid !== '0') {
        const r = await s.exec(['sudo', '-n', 'true']);
        if (r.code !== 0) {
          throw new LockstepError({
            code: 'needs-root',
            message: `${i.user}@${where} is not root and cannot use sudo without a password.`,
            cause: r.stderr.trim().slice(0, 200),
            fix: `On the host, as root: echo '${i.user} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/lockstep && chmod 440 /etc/sudoers.d/lockstep   (or add it as root: --user root)`,
            host: where,
          });
        }
        sudo = true;
      }
      const name = (await s.check(['hostname'])).trim().slice(0, 63) || i.address;
      const host = this.deps.hosts.insert({ address: i.address, port: i.port, name, user: i.user, keyFile, fingerprint, keyType, sudo });
      this.deps.bus.log('info', 'hosts', `Added ${name} (${where}), host key ${fingerprint} pinned${trustedByKnownHosts ? ' (matches known_hosts)' : ''}`, {
        host: where,
      });
      return host;
    } finally {
      s.dispose();
    }
  }

  /** The lab's hosts: their keys were made by this app, so they are pinned without asking. */
  async addLab(): Promise<HostDTO[]> {
    const st = await this.deps.lab.status();
    if (st.state !== 'up') throw new LockstepError({ code: 'lab-not-up', message: 'The virtual lab is not running.', fix: 'lockstep lab up' });
    const out: HostDTO[] = [];
    for (const h of st.hosts)
      out.push(await this.add({ address: h.address, port: h.port, user: st.user, keyFile: st.keyFile, acceptFingerprint: h.fingerprint }));
    return out;
  }

  /** Is this host one of the virtual lab's (and which flavour)? Its fixes never reboot it: it is this machine. */
  async labFlavourOf(h: Pick<HostDTO, 'address' | 'port'>): Promise<'namespaces' | 'kernel' | undefined> {
    const st = await this.deps.lab.status();
    return st.state === 'up' && st.hosts.some((x) => x.address === h.address && x.port === h.port) ? st.flavour : undefined;
  }

  forget(ref: string): { forgotten: string } {
    const h = this.resolve(ref);
    this.deps.hosts.remove(h.id);
    this.deps.pool.forget(h);
    this.deps.bus.log('warn', 'hosts', `Forgot ${h.name} (${h.hostId}) and its pinned key`, { host: h.hostId });
    return { forgotten: h.hostId };
  }

  /** The virtual lab's hosts accept the lab's own key (made by this app). */
  private async labKeyFor(address: string, port: number): Promise<string | undefined> {
    const st = await this.deps.lab.status();
    return st.state === 'up' && st.hosts.some((h) => h.address === address && h.port === port) ? st.keyFile : undefined;
  }

  private defaultKeyFile(): string | undefined {
    if (process.env.SSH_AUTH_SOCK) return undefined;
    for (const f of ['id_ed25519', 'id_ecdsa', 'id_rsa']) if (existsSync(join(this.sshDir, f))) return join(this.sshDir, f);
    return undefined;
  }
}
