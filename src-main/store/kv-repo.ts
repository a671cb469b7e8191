import type { DB } from './database.js';

/** Small JSON documents that have exactly one row (the lab's state, UI preferences). */
export class KeyValueRepo {
  constructor(private readonly db: DB) {}

  /** the database file (for a fix a person can type) */
  get file(): string {
    return this.db.name;
  }

  get<T>(key: string): T | undefined {
    const r = this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
    return r ? (JSON.parse(r.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    this.db
      .prepare(
        'INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      )
      .run(key, JSON.stringify(value), Date.now());
  }

  delete(key: string): void {
    this.db.prepare('DELETE FROM kv WHERE key = ?').run(key);
  }
}
