import { describe, expect, it } from 'vitest';
import type { MaintenanceGap, MaintenanceReport } from '../../src-main/contract/index.js';
import {
  enterRefusal,
  maintenanceRecord,
  maintenanceStatus,
  maintenanceWords,
  notInMaintenance,
  returnedRecord,
  roleOf,
  statusOf,
  switchoverGap,
  unprotectedSeconds,
} from '../../src-main/lockstep/maintenance.js';
import { failedOverRecord } from '../../src-main/lockstep/observed-failover.js';
import { gapAcross } from '../../src-main/drill/moment-gap.js';
import { formatMaintenance } from '../../src-main/transports/cli/format-maintenance.js';
import { pairRecordSchema, type PairRecord } from '../../src-main/lockstep/pair-record.js';

const A = { hostId: '10.0.0.11:22', name: 'hostA' };
const B = { hostId: '10.0.0.12:22', name: 'hostB' };
const pair: PairRecord = {
  state: 'lockstep',
  primary: A.hostId,
  secondary: B.hostId,
  accel: 'tcg',
  qemuMajor: 7,
  xa: '10.99.0.1',
  xb: '10.99.0.2',
  guestAddress: '10.0.0.50',
  guestCidr: '10.0.0.50/24',
  since: 1000,
  diskSync: 'full-copy',
  primaryVm: 'primary',
  generation: 2,
};
const side = (ref: string) => ({ host: ref, name: ref === A.hostId ? 'hostA' : 'hostB', colo: 'none' as const });

describe('maintenance: which side, and when to refuse', () => {
  it('names the role a host runs', () => {
    expect(roleOf(pair, A.hostId)).toBe('primary');
    expect(roleOf(pair, B.hostId)).toBe('secondary');
    expect(roleOf(pair, '10.0.0.13:22')).toBeNull();
  });

  it('refuses without a pair in lockstep, a host outside the pair, or the other host already out — each with a fix', () => {
    expect(enterRefusal(undefined, 'unprotected', A)?.code).toBe('not-in-lockstep');
    const fo = enterRefusal({ ...pair, state: 'failed-over', lost: B.hostId, failedAt: 5 }, 'failed-over', A);
    expect(fo).toMatchObject({ code: 'not-in-lockstep', fix: 'lockstep lockstep reprotect' });
    expect(enterRefusal(pair, 'lockstep', { hostId: '10.0.0.13:22', name: 'hostC' })?.code).toBe('not-in-pair');
    expect(enterRefusal(pair, 'lockstep', A)).toBeNull();
    const inB = maintenanceRecord(failedOverRecord(pair, 'primary-alone', 5) as never, {
      enteredAt: 5,
      hostRole: 'secondary',
      preferredPrimary: A.hostId,
      agentsArmed: true,
    });
    // entering again for the same host is "already so"; the other host would stop the guest
    expect(enterRefusal(inB, 'maintenance', B)).toBeNull();
    expect(enterRefusal(inB, 'maintenance', A)).toMatchObject({ code: 'other-host-in-maintenance' });
    expect(enterRefusal(inB, 'maintenance', A)?.fix).toMatch(/maintenance exit/);
  });
});

describe('maintenance: the records of a cycle', () => {
  it('primary host out: after the switchover the survivor is primary and the host is the one in maintenance; valid by the schema', () => {
    const fo = failedOverRecord(pair, 'secondary-took-over', 2000) as Extract<PairRecord, { state: 'failed-over' }>;
    const m = maintenanceRecord(fo, { enteredAt: 1900, hostRole: 'primary', preferredPrimary: A.hostId, agentsArmed: true });
    expect(m).toMatchObject({ state: 'maintenance', primary: B.hostId, secondary: A.hostId, primaryVm: 'secondary', maintenance: { host: A.hostId } });
    expect(m).not.toHaveProperty('lost');
    expect(m).not.toHaveProperty('failedAt');
    expect(pairRecordSchema.parse(JSON.parse(JSON.stringify(m)))).toEqual(m);
    // back: the re-protect starts from a failed-over record whose lost host is the one that was out
    const back = returnedRecord(m, 3000);
    expect(back).toMatchObject({ state: 'failed-over', primary: B.hostId, lost: A.hostId, failedAt: 3000 });
    expect(back).not.toHaveProperty('maintenance');
    expect(pairRecordSchema.safeParse(back).success).toBe(true);
  });

  it('a maintenance record without its mark is refused by the schema', () => {
    expect(pairRecordSchema.safeParse({ ...pair, state: 'maintenance' }).success).toBe(false);
  });

  it('status: the survivor and the host; the guest down when the survivor is gone too', () => {
    const m = maintenanceRecord(failedOverRecord(pair, 'primary-alone', 5) as never, {
      enteredAt: 5,
      hostRole: 'secondary',
      preferredPrimary: A.hostId,
      agentsArmed: false,
    });
    expect(maintenanceStatus(m, side, true)).toMatchObject({ state: 'maintenance', survivor: { name: 'hostA' }, host: { name: 'hostB' }, since: 5 });
    const down = maintenanceStatus(m, side, false);
    expect(down.state).toBe('unprotected');
    expect(down.state === 'unprotected' && down.why).toMatch(/hostA's disk holds every acknowledged write/);
  });
});

describe('maintenance: words and figures', () => {
  it('says plainly what may be done and what happens if the survivor fails', () => {
    const w = maintenanceWords('hostA', 'hostB');
    expect(w.say).toBe('hostA can be rebooted now; the guest runs unprotected on hostB.');
    expect(w.risk).toMatch(/^If hostB fails before hostA is back, the guest stops/);
    expect(w.risk).toContain('lockstep lockstep protect hostB hostA');
    expect(w.next).toContain('lockstep host maintenance exit hostA');
  });

  it('the switchover gap is the worst ordinary-client gap of the switchovers, not of the re-protects', () => {
    const g = (what: MaintenanceGap['what'], ms: number | null): MaintenanceGap => ({
      what,
      at: 0,
      from: 'a',
      to: 'b',
      ordinaryClientMs: ms,
      streamMs: null,
      streamSurvived: null,
      wentBackwards: null,
      stepMs: 1,
    });
    expect(switchoverGap([])).toBeNull();
    expect(switchoverGap([g('reprotect', 1500)])).toBeNull();
    expect(switchoverGap([g('enter', 300), g('reprotect', 1500), g('failback', 700)])).toBe(700);
    expect(switchoverGap([g('enter', null)])).toBeNull();
  });

  it('unprotected time sums the intervals; an open one runs until now', () => {
    expect(unprotectedSeconds([], 10_000)).toBe(0);
    expect(unprotectedSeconds([[1000, 3500]], 10_000)).toBe(2.5);
    expect(
      unprotectedSeconds(
        [
          [1000, 3500],
          [5000, null],
        ],
        10_000,
      ),
    ).toBe(7.5);
  });

  it('status of a report: in maintenance, protected again, or none', () => {
    const report: MaintenanceReport = {
      id: 1,
      host: 'hostA',
      hostId: A.hostId,
      hostRole: 'primary',
      survivor: 'hostB',
      enteredAt: 1,
      protectedAt: null,
      unprotectedSeconds: 3,
      resyncBytes: 0,
      gaps: [],
      switchoverGapMs: null,
      failback: false,
      agentsArmed: true,
      primaryNow: 'hostB',
      unprotected: [[1, null]],
      notes: [],
    };
    expect(statusOf(report, true, maintenanceWords('hostA', 'hostB'))).toMatchObject({ state: 'in-maintenance', host: 'hostA', survivor: 'hostB' });
    expect(statusOf({ ...report, protectedAt: 9 }, false)).toMatchObject({ state: 'protected' });
    expect(statusOf(report, false)).toMatchObject({ state: 'none', last: report });
    expect(statusOf(null, false)).toMatchObject({ state: 'none', last: null });
  });
});

describe('maintenance: the ordinary client gap across a moment', () => {
  const ok = (t: number, ms = 50) => ({ t, ms });
  const failed = (t: number) => ({ t, ms: null });
  it('the longest silence from the last answer before the moment until answers flow after it was handled', () => {
    const s = [ok(0), ok(100), ok(200), failed(300), failed(1300), ok(2300), ok(2400)];
    // moment 250..900: silent from 250 (answer of 200) to 2350
    expect(gapAcross(s, { at: 260, handledAt: 900 }, 5000)).toBe(2100);
  });
  it('null when the client had no answer before the moment (it started late), not zero', () => {
    expect(gapAcross([ok(3000), ok(3100)], { at: 1000, handledAt: 2000 }, 5000)).toBeNull();
    expect(gapAcross([], { at: 1000, handledAt: 2000 }, 5000)).toBeNull();
  });
  it('no answer after the moment: silent until the end of watching', () => {
    expect(gapAcross([ok(0), ok(100), failed(200)], { at: 300, handledAt: 400 }, 6150)).toBe(6000);
  });
  it('answers throughout: the largest step between them', () => {
    const s = [0, 100, 200, 300, 700, 800].map((t) => ok(t));
    expect(gapAcross(s, { at: 250, handledAt: 350 }, 1000)).toBe(400);
  });
});

describe('maintenance: what the CLI prints', () => {
  it('the plain sentence first, the risk, what to run next, then the figures by their bench names', () => {
    const report: MaintenanceReport = {
      id: 3,
      host: 'hostA',
      hostId: A.hostId,
      hostRole: 'primary',
      survivor: 'hostB',
      enteredAt: 1,
      protectedAt: null,
      unprotectedSeconds: 12.5,
      resyncBytes: 0,
      gaps: [
        { what: 'enter', at: 1, from: 'hostA', to: 'hostB', ordinaryClientMs: 1016, streamMs: 400, streamSurvived: true, wentBackwards: false, stepMs: 800 },
      ],
      switchoverGapMs: 1016,
      failback: false,
      agentsArmed: true,
      primaryNow: 'hostB',
      unprotected: [[1, null]],
      notes: [],
    };
    const text = formatMaintenance(statusOf(report, true, maintenanceWords('hostA', 'hostB')));
    const lines = text.split('\n');
    expect(lines[0]).toBe('hostA can be rebooted now; the guest runs unprotected on hostB.');
    expect(lines[1]).toMatch(/^If hostB fails/);
    expect(text).toContain('enter     hostA → hostB: ordinary client gap 1016 ms, TCP stream gap 400 ms, step 800 ms');
    expect(text).toContain('maintenance_switchover_gap_ms: 1016');
    expect(text).toContain('maintenance_unprotected_seconds: 12.5');
    expect(text).toContain('maintenance_resync_bytes: 0');
  });
});

describe('maintenance: protect and re-protect refuse while a host is out', () => {
  it('throws in-maintenance naming the host and the exit command; any other record passes through', () => {
    const m = maintenanceRecord(failedOverRecord(pair, 'primary-alone', 5) as never, {
      enteredAt: 5,
      hostRole: 'secondary',
      preferredPrimary: A.hostId,
      agentsArmed: false,
    });
    const name = (ref: string) => side(ref).name;
    expect(() => notInMaintenance(m, name)).toThrow(/hostB is in maintenance/);
    try {
      notInMaintenance(m, name);
    } catch (e) {
      expect((e as { fix?: string }).fix).toBe('lockstep host maintenance exit hostB');
    }
    expect(notInMaintenance(pair, name)).toBe(pair);
    expect(notInMaintenance(undefined, name)).toBeUndefined();
  });
});
