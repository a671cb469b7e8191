import type { EventRecord, Level } from '../contract/index.js';
import type { DB } from './database.js';

interface Row {
  id: number;
  at: number;
  level: Level;
  source: string;
  message: string;
  host: string | null;
  data: string | null;
  origin: string;
}

function toRecord(r: Row): EventRecord {
  const rec: EventRecord = { id: r.id, at: r.at, level: r.level, source: r.source, message: r.message };
  if (r.host) rec.host = r.host;
  if (r.data) rec.data = JSON.parse(r.data) as Record<string, unknown>;
  return rec;
}

export class EventsRepo {
  constructor(private readonly db: DB) {}

  insert(e: Omit<EventRecord, 'id'>, origin: string): EventRecord {
    const info = this.db
      .prepare('INSERT INTO events (at, level, source, message, host, data, origin) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.at, e.level, e.source, e.message, e.host ?? null, e.data ? JSON.stringify(e.data) : null, origin);
    return { ...e, id: Number(info.lastInsertRowid) };
  }

  /** Newest `limit` events (optionally only those after `afterId` / matching `query`), oldest first. */
  list(opts: { limit: number; afterId?: number; query?: string }): EventRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.afterId !== undefined) {
      where.push('id > ?');
      args.push(opts.afterId);
    }
    if (opts.query) {
      where.push("(message LIKE ? ESCAPE '\\' OR source LIKE ? ESCAPE '\\' OR IFNULL(host,'') LIKE ? ESCAPE '\\')");
      const like = `%${opts.query.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      args.push(like, like, like);
    }
    const sql = `SELECT * FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, opts.limit) as Row[];
    return rows.reverse().map(toRecord);
  }

  /** Events written by other processes (CLI next to a running app), for tailing. */
  fromOthers(afterId: number, origin: string): EventRecord[] {
    const rows = this.db.prepare('SELECT * FROM events WHERE id > ? AND origin != ? ORDER BY id LIMIT 500').all(afterId, origin) as Row[];
    return rows.map(toRecord);
  }

  lastId(): number {
    const r = this.db.prepare('SELECT IFNULL(MAX(id), 0) AS m FROM events').get() as { m: number };
    return r.m;
  }
}
