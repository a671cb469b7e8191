import { describe, expect, it } from 'vitest';
import type { DrillReport } from '../../src-main/contract/lockstep.js';
import { drillReportHtml, downtimeSvg } from '../../src-main/drill/report-html.js';

const report: DrillReport = {
  id: 7,
  mode: 'kill-primary-vm',
  expected: 'The secondary takes over <quickly>',
  startedAt: Date.UTC(2026, 10, 25, 9, 0, 0),
  endedAt: Date.UTC(2026, 10, 25, 9, 0, 5),
  verdict: 'passed',
  reasons: [],
  timeline: [
    { t: 1000, what: 'fault injected' },
    { t: 1300, what: 'failover' },
  ],
  http: {
    attempts: 4,
    failures: 1,
    longestGapMs: 420,
    gapsMs: [420],
    wentBackwards: false,
    samples: [
      { t: 0, ms: 20, count: 1 },
      { t: 900, ms: 22, count: 2 },
      { t: 1100, ms: null },
      { t: 1320, ms: 40, count: 3 },
    ],
  },
  stream: { survived: true, longestGapMs: 300, wentBackwards: false },
  detectionMs: 250,
  before: { state: 'unprotected', why: 'x' },
  after: { state: 'unprotected', why: 'y' },
};

describe('drill report export', () => {
  it('is one self-contained HTML file: no scripts, no external resources, values escaped', () => {
    const html = drillReportHtml(report, '0.1.0');
    expect(html).toContain('PASSED');
    expect(html).toContain('420 ms');
    expect(html).toContain('&lt;quickly&gt;');
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(html).toContain("default-src 'none'");
  });
  it('charts good answers as a line and failures as red ticks', () => {
    const svg = downtimeSvg(report);
    expect(svg).toContain('<polyline');
    expect((svg.match(/stroke="#cf222e"/g) ?? []).length).toBe(1);
    expect(svg).toContain('fault injected');
  });
});
