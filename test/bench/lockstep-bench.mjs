// Lockstep figures: protect, guest boot inside COLO, checkpoints, and ≥ 5 kill-primary-vm drills.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function lockstepBench({ cliBin, report, drills = 5 }) {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-colo-'));
  const env = { ...process.env, LOCKSTEP_HOME: home, LOCKSTEP_LAB_PREFIX: 'lbc', LOCKSTEP_LAB_NET: '198.18.86' };
  const cli = (args) => {
    const r = spawnSync(process.execPath, [cliBin, ...args, '--json'], { env, encoding: 'utf8', timeout: 600_000 });
    return JSON.parse(r.stdout);
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
  cli(['lab', 'down']);
  if (!cli(['lab', 'up']).ok) throw new Error('lab up failed');
  cli(['hosts', 'add-lab']);
  const protect = [];
  const boot = [];
  const gaps = [];
  const streamGaps = [];
  const detection = [];
  let cps = null;
  let pause = null;
  for (let i = 0; i < drills; i++) {
    cli(['lockstep', 'stop']);
    const t0 = performance.now();
    const p = cli(['lockstep', 'protect', 'hostA', 'hostB']);
    if (!p.ok) throw new Error(`protect: ${JSON.stringify(p.error)}`);
    protect.push((performance.now() - t0) / 1000);
    for (let k = 0; k < 60; k++) {
      const c = cli(['lab', 'client', 'http', '--seconds', '0.3']);
      if (c.ok && c.value.answers > 0) break;
      await sleep(500);
    }
    boot.push((performance.now() - t0) / 1000);
    if (i === 0) {
      await sleep(8000);
      const st = cli(['lockstep', 'status']).value;
      cps = st.checkpointsPerSecond;
      pause = st.checkpointPauseMsP50;
    }
    const d = cli(['drill', 'run', 'kill-primary-vm']);
    if (!d.ok) throw new Error(`drill: ${JSON.stringify(d.error)}`);
    gaps.push(d.value.http.longestGapMs);
    streamGaps.push(d.value.stream.longestGapMs);
    detection.push(d.value.detectionMs);
    console.log(
      `# drill ${i + 1}: ${d.value.verdict}, http gap ${d.value.http.longestGapMs} ms, stream gap ${d.value.stream.longestGapMs} ms, TCP ${d.value.stream.survived ? 'kept' : 'lost'}`,
    );
  }
  cli(['lockstep', 'stop']);
  cli(['lab', 'down']);
  rmSync(home, { recursive: true, force: true });
  report('protect_seconds', pct(protect, 0.5));
  report('guest_boot_seconds', pct(boot, 0.5));
  report('checkpoints_per_s', cps);
  report('checkpoint_pause_ms_p50', pause);
  report('failover_gap_ms_p50', pct(gaps, 0.5));
  report('failover_gap_ms_p99', pct(gaps, 0.99));
  report('failover_gap_ms_max', Math.max(...gaps));
  report('failover_stream_gap_ms_max', Math.max(...streamGaps));
  report('detection_ms', pct(detection, 0.5));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const cliBin = new URL('../../dist/main/transports/cli/bin.js', import.meta.url).pathname;
  await lockstepBench({
    cliBin,
    report: (k, v) => console.log(`${k}: ${typeof v === 'number' ? Math.round(v * 1000) / 1000 : v}`),
    drills: Number(process.argv[2] ?? 5),
  });
}
