import { describe, expect, it } from 'vitest';
import { Store } from '../../src-main/store/store.js';
import { tempDir } from '../helpers/temp.js';
import { join } from 'node:path';

describe('store migrations', () => {
  it('a fresh database has no table nobody uses (clusters, metrics dropped by migration 3)', () => {
    const dir = tempDir();
    try {
      const store = Store.open(join(dir.path, 'lockstep.db'));
      const tables = (
        store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as {
          name: string;
        }[]
      ).map((t) => t.name);
      store.close();
      expect(tables).not.toContain('clusters');
      expect(tables).not.toContain('metrics');
      expect(tables).toEqual(expect.arrayContaining(['drills', 'events', 'hosts', 'kv', 'plans']));
    } finally {
      dir.remove();
    }
  });
});
