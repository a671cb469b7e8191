import type { DrillReport } from '../contract/lockstep.js';
import type { DB } from '../store/database.js';

/** Drill reports (the `drills` table: the report JSON plus searchable columns). */
export class DrillsRepo {
  constructor(private readonly db: DB) {}

  insert(r: Omit<DrillReport, 'id'>): DrillReport {
    const info = this.db
      .prepare('INSERT INTO drills (mode, started_at, ended_at, verdict, report) VALUES (?, ?, ?, ?, ?)')
      .run(r.mode, r.startedAt, r.endedAt, r.verdict, '{}');
    const full: DrillReport = { ...r, id: Number(info.lastInsertRowid) };
    this.db.prepare('UPDATE drills SET report = ? WHERE id = ?').run(JSON.stringify(full), full.id);
    return full;
  }

  list(limit = 100): DrillReport[] {
    const rows = this.db.prepare('SELECT report FROM drills ORDER BY id DESC LIMIT ?').all(limit) as { report: string }[];
    return rows.map((r) => JSON.parse(r.report) as DrillReport).reverse();
  }
}
