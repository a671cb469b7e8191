import type { HostDTO } from '../contract/hosts.js';
import type { DB } from './database.js';

interface Row {
  id: number;
  address: string;
  port: number;
  name: string;
  user: string;
  key_file: string | null;
  fingerprint: string;
  key_type: string;
  facts: string | null;
  sudo: number;
  added_at: number;
  last_seen: number | null;
}

function toDTO(r: Row): HostDTO {
  const d: HostDTO = {
    id: r.id,
    hostId: `${r.address}:${r.port}`,
    address: r.address,
    port: r.port,
    name: r.name,
    user: r.user,
    fingerprint: r.fingerprint,
    keyType: r.key_type,
    sudo: r.sudo === 1,
    addedAt: r.added_at,
  };
  if (r.key_file) d.keyFile = r.key_file;
  if (r.last_seen) d.lastSeen = r.last_seen;
  return d;
}

/** Pinned hosts. Identity is address + port (+ the pinned key). */
export class HostsRepo {
  constructor(private readonly db: DB) {}

  list(): HostDTO[] {
    return (this.db.prepare('SELECT * FROM hosts ORDER BY id').all() as Row[]).map(toDTO);
  }

  find(address: string, port: number): HostDTO | undefined {
    const r = this.db.prepare('SELECT * FROM hosts WHERE address = ? AND port = ?').get(address, port) as Row | undefined;
    return r && toDTO(r);
  }

  /** By `address:port`, by `address` when only one port is known for it, or by name. */
  resolve(ref: string): HostDTO | undefined {
    const m = /^(.+):(\d{1,5})$/.exec(ref);
    if (m) return this.find(m[1]!, Number(m[2]));
    const byAddr = (this.db.prepare('SELECT * FROM hosts WHERE address = ?').all(ref) as Row[]).map(toDTO);
    if (byAddr.length === 1) return byAddr[0];
    const byName = (this.db.prepare('SELECT * FROM hosts WHERE name = ?').all(ref) as Row[]).map(toDTO);
    return byName.length === 1 ? byName[0] : undefined;
  }

  insert(h: Omit<HostDTO, 'id' | 'hostId' | 'addedAt'>): HostDTO {
    this.db
      .prepare(
        'INSERT INTO hosts (address, port, name, user, key_file, fingerprint, key_type, sudo, added_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(h.address, h.port, h.name, h.user, h.keyFile ?? null, h.fingerprint, h.keyType, h.sudo ? 1 : 0, Date.now(), Date.now());
    return this.find(h.address, h.port)!;
  }

  touch(id: number): void {
    this.db.prepare('UPDATE hosts SET last_seen = ? WHERE id = ?').run(Date.now(), id);
  }

  setFacts(id: number, facts: unknown): void {
    this.db.prepare('UPDATE hosts SET facts = ? WHERE id = ?').run(JSON.stringify(facts), id);
  }

  remove(id: number): void {
    this.db.prepare('DELETE FROM hosts WHERE id = ?').run(id);
  }
}
