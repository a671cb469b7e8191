import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairRecordSchema, reprotectingRecord, type PairRecord } from '../../src-main/lockstep/pair-record.js';
import { FLOW_KEY, flowBaselines } from '../../src-main/lockstep/serving-check.js';
import { RecordRepo } from '../../src-main/store/record-repo.js';
import { Store } from '../../src-main/store/store.js';
import { tempDir } from '../helpers/temp.js';

const base = {
  primary: '198.18.77.11:22',
  secondary: '198.18.77.12:22',
  accel: 'tcg',
  qemuMajor: 7,
  xa: '10.99.0.1',
  xb: '10.99.0.2',
  guestAddress: '198.18.77.50',
  guestCidr: '198.18.77.50/24',
  since: 1,
  diskSync: 'full-copy',
} as const;

function withRepo(f: (repo: RecordRepo<PairRecord>, store: Store) => void): void {
  const dir = tempDir();
  const store = Store.open(join(dir.path, 'lockstep.db'));
  try {
    f(new RecordRepo(store.kv, 'pair', pairRecordSchema), store);
  } finally {
    store.close();
    dir.remove();
  }
}

describe("a module's record, validated on read", () => {
  it('a pair record round-trips; a failed-over one carries its lost host and failure time', () =>
    withRepo((repo) => {
      expect(repo.get()).toBeUndefined();
      const failed: PairRecord = { ...base, state: 'failed-over', lost: base.secondary, failedAt: 5 };
      repo.set(failed);
      expect(repo.get()).toEqual(failed);
      const next = reprotectingRecord(failed);
      expect(next).toMatchObject({ state: 'reprotecting', secondary: base.secondary });
      expect(next).not.toHaveProperty('lost');
      expect(next).not.toHaveProperty('failedAt');
    }));

  it('a record the schema refuses is an error naming the key and the field, never a silent cast', () =>
    withRepo((repo, store) => {
      store.kv.set('pair', { ...base, state: 'failed-over' }); // no lost host, no failure time
      expect(() => repo.get()).toThrowError(expect.objectContaining({ code: 'store-record-invalid', message: expect.stringContaining('lost') }));
      store.kv.set('pair', { ...base, state: 'dancing' });
      expect(() => repo.get()).toThrowError(expect.objectContaining({ code: 'store-record-invalid' }));
    }));
});

describe("lockstep's comparer-flow baseline (the status watchdog's record)", () => {
  const sample = { at: 1000, primaryOut: 4000, secondaryIn: 900 };

  it('round-trips and is what the next status judges against', () =>
    withRepo((_repo, store) => {
      const flows = flowBaselines(store.kv);
      expect(flows.get()).toBeUndefined();
      flows.set({ since: 1, base: sample });
      expect(flows.get()).toEqual({ since: 1, base: sample });
    }));

  it('a corrupt baseline is an error naming the key and how to forget it, not a silent new baseline', () =>
    withRepo((_repo, store) => {
      store.kv.set(FLOW_KEY, { since: 1, base: { at: 1000, primaryOut: '4000' } });
      let err: unknown;
      try {
        flowBaselines(store.kv).get();
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'store-record-invalid', details: { key: 'lockstep.comparer-flow' } });
      const { message, fix } = err as { message: string; fix: string };
      expect(message).toContain('lockstep.comparer-flow');
      expect(message).toMatch(/base\.primaryOut|base\.secondaryIn/);
      expect(fix).toContain(`DELETE FROM kv WHERE key = 'lockstep.comparer-flow'`);
      expect(fix).toContain('lockstep lockstep status');
    }));
});
