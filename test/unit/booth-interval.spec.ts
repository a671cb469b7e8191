import { describe, expect, it } from 'vitest';
import { BOOTH_LOOP_MAX_MINUTES, BOOTH_LOOP_MIN_MINUTES, boothLoopInterval } from '../../src-main/contract/index.js';

describe('booth loop interval bounds', () => {
  it('accepts whole minutes from 1 to 120, typed or as numbers', () => {
    expect(BOOTH_LOOP_MIN_MINUTES).toBe(1);
    expect(BOOTH_LOOP_MAX_MINUTES).toBe(120);
    for (const v of [1, '1', 5, ' 30 ', 120, '120']) {
      const r = boothLoopInterval(v);
      expect(r.ok, String(v)).toBe(true);
      if (r.ok) expect(r.ms).toBe(Number(v) * 60_000);
    }
  });

  it('refuses what the issue saw accepted (0.01, -5, 99999) and every other value outside the field', () => {
    for (const v of [0.01, -5, 99999, 0, 121, 120.5, 1.5, '', '  ', 'abc', '5m', Number.NaN, Infinity, -Infinity, null, undefined, {}, '1e9']) {
      const r = boothLoopInterval(v);
      expect(r.ok, JSON.stringify(v)).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('bad-booth-interval');
        expect(r.error.message).toContain('Drill every');
        expect(r.error.message).toContain('from 1 to 120');
      }
    }
  });

  it('says which bound was crossed', () => {
    const low = boothLoopInterval(0.01);
    const high = boothLoopInterval(99999);
    expect(!low.ok && low.error.message).toContain('at least 1 minute');
    expect(!high.ok && high.error.message).toContain('at most 120 minutes');
  });
});
