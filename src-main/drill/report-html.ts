/**
 * Pure: a drill report as ONE self-contained HTML file (inline CSS and SVG, no scripts,
 * no external resources), for sharing after a demo. Every value is escaped.
 */
import { GAP_FIGURES, gapsOf, type DrillReport } from '../contract/lockstep.js';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The downtime chart: answer latency over time, failed attempts in red, the longest gap shaded. */
export function downtimeSvg(r: DrillReport, width = 900, height = 220): string {
  const samples = r.http.samples;
  const tMax = Math.max(1, ...samples.map((s) => s.t), ...r.timeline.map((e) => e.t));
  const msMax = Math.max(50, ...samples.map((s) => s.ms ?? 0));
  const x = (t: number) => 40 + (t / tMax) * (width - 60);
  const y = (ms: number) => height - 30 - (ms / msMax) * (height - 60);
  const ok = samples.filter((s) => s.ms !== null).map((s) => `${x(s.t).toFixed(1)},${y(s.ms!).toFixed(1)}`);
  const fails = samples
    .filter((s) => s.ms === null)
    .map((s) => `<line x1="${x(s.t).toFixed(1)}" y1="${height - 30}" x2="${x(s.t).toFixed(1)}" y2="${height - 40}" stroke="#cf222e" stroke-width="2"/>`);
  const marks = r.timeline.map(
    (e) =>
      `<line x1="${x(e.t).toFixed(1)}" y1="20" x2="${x(e.t).toFixed(1)}" y2="${height - 30}" stroke="#9a6700" stroke-dasharray="4 3"/><text x="${(x(e.t) + 3).toFixed(1)}" y="30" font-size="11" fill="#9a6700">${esc(e.what)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Answer latency over the drill; longest gap a client saw ${gapsOf(r).headlineMs} ms">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    `<line x1="40" y1="${height - 30}" x2="${width - 20}" y2="${height - 30}" stroke="#888"/>`,
    `<text x="40" y="${height - 10}" font-size="11" fill="#555">0 s</text><text x="${width - 20}" y="${height - 10}" font-size="11" text-anchor="end" fill="#555">${(tMax / 1000).toFixed(1)} s</text>`,
    `<text x="4" y="${y(msMax) + 4}" font-size="11" fill="#555">${Math.round(msMax)} ms</text>`,
    ...marks,
    ok.length > 1 ? `<polyline points="${ok.join(' ')}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>` : '',
    ...fails,
    `</svg>`,
  ].join('');
}

export function drillReportHtml(r: DrillReport, appVersion: string): string {
  const when = new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  const row = (k: string, v: unknown) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`;
  const g = gapsOf(r);
  const b = r.breakdown;
  const fig = (k: keyof typeof GAP_FIGURES, v: number | null) =>
    `<tr><th>${esc(GAP_FIGURES[k].label)} (ms)<div class="muted">${esc(GAP_FIGURES[k].help)}</div></th><td>${esc(v ?? '—')}</td></tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Lockstep Lab drill ${esc(r.id)}: ${esc(r.mode)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;color:#1b1f24}h1{margin-bottom:.2rem}.verdict{font-size:1.4rem;font-weight:700;padding:.6rem 1rem;border-radius:8px}
.passed{background:#dafbe1}.failed{background:#ffebe9}table{border-collapse:collapse;margin:1rem 0}th,td{text-align:left;padding:.3rem .8rem;border-bottom:1px solid #ddd}ol{padding-left:1.2rem}.muted{color:#57606a}</style></head>
<body>
<h1>Pull-the-plug drill: ${esc(r.mode)}</h1>
<p class="muted">${esc(when)} · Lockstep Lab ${esc(appVersion)}</p>
<p class="verdict ${r.verdict === 'passed' ? 'passed' : 'failed'}">${r.verdict === 'passed' ? 'PASSED' : 'FAILED'} — ${GAP_FIGURES.headlineMs.label}: ${esc(g.headlineMs)} ms</p>
<p><b>Expected:</b> ${esc(r.expected)}</p>
${r.reasons.length ? `<ul>${r.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
<h2>What a client saw</h2>
${downtimeSvg(r)}
<table>
${fig('ordinaryClientMs', g.ordinaryClientMs)}${fig('streamMs', g.streamMs)}${fig('hedgedMs', g.hedgedMs)}
${row('Ordinary client: requests / failed / through a SYN retransmission', r.ordinary ? `${r.ordinary.attempts} / ${r.ordinary.failures} / ${r.ordinary.synRetries}` : '—')}
${row('Hedged poller: attempts / failures', `${r.http.attempts} / ${r.http.failures}`)}
${row('Counter went backwards', r.http.wentBackwards ? 'YES' : 'no')}${row('TCP stream survived', r.stream.survived ? 'yes' : 'NO')}
</table>
<h2>Where the time went (ms after the fault)</h2>
<table>
${row('Detection (the agent decided)', b?.detectionMs ?? r.detectionMs ?? '—')}${row('Failover done (colo-failover finished)', b?.failoverDoneMs ?? '—')}
${row('First frame from the survivor on the client’s wire', b?.firstFrameMs != null ? `${b.firstFrameMs}${b.firstFrameKind ? ` (${b.firstFrameKind})` : ''}` : '—')}
${row('First answer to the ordinary client', b?.firstAnswerMs ?? '—')}
${b?.note ? row('Note', b.note) : ''}
</table>
${r.agents?.length ? `<h2>Host agents</h2><ul>${r.agents.map((a) => `<li>${esc(a.name)} (${esc(a.role)}): ${a.action ? `${esc(a.action)}, exit ${esc(a.rc ?? '—')} — ${esc(a.reason)}` : `did not act (${esc(a.state)})`}</li>`).join('')}</ul>` : ''}
<h2>Timeline</h2>
<ol>${r.timeline.map((e) => `<li><b>${esc((e.t / 1000).toFixed(3))} s</b> — ${esc(e.what)}</li>`).join('')}</ol>
<h2>Pair before and after</h2>
<p>Before: ${esc(r.before.state)} · After: ${esc(r.after.state)}</p>
</body></html>
`;
}
