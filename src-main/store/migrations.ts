/** Numbered migrations. Append only: never edit a shipped one. */
export const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('info','warn','error')),
        source TEXT NOT NULL,
        message TEXT NOT NULL,
        host TEXT,
        data TEXT,
        origin TEXT NOT NULL
      );
      CREATE INDEX events_at ON events(at);

      CREATE TABLE plans (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        params TEXT NOT NULL,
        state TEXT NOT NULL,
        owner_pid INTEGER,
        owner_start TEXT,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE step_runs (
        plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
        step_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        title TEXT NOT NULL,
        state TEXT NOT NULL,
        applied INTEGER NOT NULL DEFAULT 0,
        started_at INTEGER,
        ended_at INTEGER,
        error TEXT,
        PRIMARY KEY (plan_id, step_id)
      );

      CREATE TABLE hosts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        address TEXT NOT NULL,
        port INTEGER NOT NULL,
        name TEXT NOT NULL,
        user TEXT NOT NULL,
        key_file TEXT,
        fingerprint TEXT NOT NULL,
        key_type TEXT NOT NULL,
        facts TEXT,
        added_at INTEGER NOT NULL,
        UNIQUE (address, port)
      );

      CREATE TABLE clusters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        host_a INTEGER NOT NULL REFERENCES hosts(id),
        host_b INTEGER NOT NULL REFERENCES hosts(id),
        config TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE metrics (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        labels TEXT
      );
      CREATE INDEX metrics_name_at ON metrics(name, at);

      CREATE TABLE drills (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mode TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        verdict TEXT,
        report TEXT
      );

      CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'hosts-sudo-and-source',
    sql: `
      ALTER TABLE hosts ADD COLUMN sudo INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE hosts ADD COLUMN last_seen INTEGER;
    `,
  },
  {
    version: 3,
    name: 'drop-unused-tables',
    // created by the first schema and never written or read: the pair and the mirror are
    // records of their own modules, figures live in drills and the bench
    sql: `
      DROP INDEX IF EXISTS metrics_name_at;
      DROP TABLE IF EXISTS metrics;
      DROP TABLE IF EXISTS clusters;
    `,
  },
];
