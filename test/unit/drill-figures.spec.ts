import { describe, expect, it } from 'vitest';
import type { DowntimeSample, DrillReport } from '../../src-main/contract/lockstep.js';
import { drillFigures, streamFaultGap } from '../../src-main/drill/figures.js';
import { drillReportHtml } from '../../src-main/drill/report-html.js';

/** an ordinary client: one request at a time, each answered in `ms`, except where given */
function plain(from: number, to: number, ms = 20): DowntimeSample[] {
  const out: DowntimeSample[] = [];
  for (let t = from; t < to; t += ms + 10) out.push({ t, ms, count: t, connectMs: 2 });
  return out;
}
const fault = { at: 3000, handledAt: 3600, actStart: 3310, actEnd: 3360 };

describe('drill figures: what a plain client saw, and where the time went', () => {
  it('the ordinary client gap spans the fault; a lost SYN recovered at 1 s is noted; the headline is the worst of ordinary and stream', () => {
    // answers until 2990, a request at 3000 lost its SYN and got through on the retransmission (1050 ms), then steady
    const ordinary = [...plain(0, 2990), { t: 3000, ms: 1050, count: 5000, connectMs: 1010 }, ...plain(4060, 6000)];
    const hedged = [...plain(0, 2990), ...plain(3400, 6000)];
    const f = drillFigures({ hedged, ordinary, streamGaps: [[2980, 3420]], streamLongestMs: 440, wire: [{ t: 3380, kind: 'announce' }] }, fault);
    const lastBefore = ordinary.filter((s) => s.t < 3000).at(-1)!;
    expect(f.gaps.ordinaryClientMs).toBe(4050 - (lastBefore.t + 20));
    expect(f.gaps.streamMs).toBe(440);
    expect(f.gaps.hedgedMs).toBeLessThan(f.gaps.ordinaryClientMs!);
    expect(f.gaps.headlineMs).toBe(f.gaps.ordinaryClientMs);
    expect(f.breakdown).toMatchObject({ detectionMs: 310, failoverDoneMs: 360, firstFrameMs: 380, firstFrameKind: 'announce', firstAnswerMs: 1050 });
    expect(f.breakdown.note).toMatch(/1 new connection\(s\) got through only on the kernel's 1 s SYN retransmission \(connect 1010 ms\)/);
    expect(f.ordinary).toMatchObject({ synRetries: 1, failures: 0 });
  });

  it('a request that timed out with no connection is counted and noted; no agent action leaves the breakdown empty', () => {
    const ordinary = [...plain(0, 2990), { t: 2995, ms: null }, ...plain(4000, 5000)];
    const f = drillFigures({ hedged: ordinary, ordinary, streamGaps: [], streamLongestMs: 60, wire: [] }, { ...fault, actStart: null, actEnd: null });
    expect(f.breakdown).toMatchObject({ detectionMs: null, failoverDoneMs: null, firstFrameMs: null });
    expect(f.breakdown.note).toMatch(/1 request\(s\) timed out at 1 s with no connection/);
    expect(f.ordinary.failures).toBe(1);
    expect(f.gaps.streamMs).toBe(60);
    expect(f.gaps.headlineMs).toBe(f.gaps.ordinaryClientMs);
  });

  it('the stream gap is the silence across the fault, not one before it', () => {
    expect(
      streamFaultGap(
        [
          [500, 1500],
          [2950, 3300],
        ],
        1000,
        fault,
      ),
    ).toBe(350);
    expect(streamFaultGap([[500, 1500]], 1000, fault)).toBe(100);
  });

  it('the HTML report names the three figures and the breakdown; its headline is the worst of ordinary and stream', () => {
    const r: DrillReport = {
      id: 1,
      mode: 'kill-primary-vm',
      expected: 'x',
      startedAt: 0,
      endedAt: 1,
      verdict: 'passed',
      reasons: [],
      timeline: [],
      http: { attempts: 1, failures: 0, longestGapMs: 300, gapsMs: [], wentBackwards: false, samples: [{ t: 0, ms: 10, count: 1 }] },
      stream: { survived: true, longestGapMs: 500, wentBackwards: false },
      detectionMs: 310,
      gaps: { ordinaryClientMs: 1210, streamMs: 500, hedgedMs: 300, headlineMs: 1210 },
      breakdown: { detectionMs: 310, failoverDoneMs: 360, firstFrameMs: 380, firstFrameKind: 'announce', firstAnswerMs: 1050, note: 'SYN <retry>' },
      agents: [
        {
          host: 'h:22',
          name: 'hostB',
          role: 'secondary',
          action: 'failover',
          rc: 0,
          state: 'took-over',
          reason: 'primary silent',
          startedAt: 1,
          finishedAt: 2,
        },
      ],
      before: { state: 'unprotected', why: 'x' },
      after: { state: 'unprotected', why: 'y' },
    };
    const html = drillReportHtml(r, '0.1.0');
    expect(html).toContain('longest gap a client saw: 1210 ms');
    for (const s of [
      'ordinary client gap',
      'TCP stream gap',
      'hedged service gap',
      'First frame from the survivor',
      '380 (announce)',
      'SYN &lt;retry&gt;',
      'hostB (secondary): failover, exit 0',
    ])
      expect(html).toContain(s);
  });
});
