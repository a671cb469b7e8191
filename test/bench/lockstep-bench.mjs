// Lockstep figures on the namespace lab: protect once, then every drill mode N times, each followed
// by a re-protect (roles swap after a failover, so drills alternate between the hosts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MODES = ['kill-primary-vm', 'power-off-host', 'cut-public-link', 'kill-secondary', 'cut-crossover'];

export async function lockstepBench({ cliBin, report, drills = 5 }) {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-colo-'));
  const env = { ...process.env, LOCKSTEP_HOME: home, LOCKSTEP_LAB_PREFIX: 'lbc', LOCKSTEP_LAB_NET: '198.18.86' };
  const cli = (args) => {
    const r = spawnSync(process.execPath, [cliBin, ...args, '--json'], { env, encoding: 'utf8', timeout: 600_000 });
    try {
      return JSON.parse(r.stdout);
    } catch {
      throw new Error(`lockstep ${args.join(' ')}: no JSON (exit ${r.status}): ${r.stderr.slice(0, 400)}`);
    }
  };
  const must = (args) => {
    const o = cli(args);
    if (!o.ok) throw new Error(`lockstep ${args.join(' ')}: ${JSON.stringify(o.error)}`);
    return o.value;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] : null);
  const t00 = performance.now();
  try {
    cli(['lab', 'down']);
    must(['lab', 'up']);
    must(['hosts', 'add-lab']);
    const t0 = performance.now();
    must(['lockstep', 'protect', 'hostA', 'hostB']);
    const protectSeconds = (performance.now() - t0) / 1000;
    const zeroToProtected = (performance.now() - t00) / 1000;
    for (let k = 0; k < 120; k++) {
      const c = cli(['lab', 'client', 'http', '--seconds', '0.3']);
      if (c.ok && c.value.answers > 0) break;
      await sleep(500);
    }
    report('guest_boot_seconds', (performance.now() - t0) / 1000);
    report('protect_seconds', protectSeconds);
    report('zero_to_protected_seconds', zeroToProtected);
    // resident memory of the QEMU on each lab host (the processes of its network namespace)
    for (const h of must(['lab', 'status']).hosts) {
      const pids = spawnSync('ip', ['netns', 'pids', h.netns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        const status = spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }).stdout;
        if (/^Name:\s+qemu-system/m.test(status)) report(`qemu_rss_mib_${h.name}`, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
      }
    }
    await sleep(8000);
    const st = must(['lockstep', 'status']);
    report('checkpoints_per_s', st.checkpointsPerSecond);
    report('checkpoint_pause_ms_p50', st.checkpointPauseMsP50);

    // the silence spanning the fault; the drill's longest gap can fall in lockstep before it
    const failoverGaps = [];
    const longestGaps = [];
    const overDetection = [];
    const streamGaps = [];
    const detection = [];
    const reprotect = [];
    const byMode = Object.fromEntries(MODES.map((m) => [m, { gaps: [], faultGaps: [], passed: 0, runs: 0 }]));
    for (let i = 0; i < drills; i++) {
      for (const mode of MODES) {
        const d = must(['drill', 'run', mode, '--seconds', '8']);
        const m = byMode[mode];
        m.runs++;
        if (d.verdict === 'passed') m.passed++;
        m.gaps.push(d.http.longestGapMs);
        m.faultGaps.push(d.http.faultGapMs);
        if (mode === 'kill-primary-vm' || mode === 'power-off-host') {
          failoverGaps.push(d.http.faultGapMs);
          longestGaps.push(d.http.longestGapMs);
          overDetection.push(d.http.faultGapMs - d.detectionMs);
          streamGaps.push(d.stream.longestGapMs);
          detection.push(d.detectionMs);
        }
        console.log(
          `# ${mode} #${i + 1}: ${d.verdict}${d.reasons.length ? ` (${d.reasons.join(' ')})` : ''}, http gap ${d.http.longestGapMs} ms (across the fault ${d.http.faultGapMs} ms), TCP ${d.stream.survived ? 'kept' : 'lost'}, detection ${d.detectionMs} ms`,
        );
        if (mode === 'power-off-host' || mode === 'cut-public-link') {
          const lost = d.after.lost?.name;
          if (lost) must(['lab', 'power', lost, 'on']);
        }
        const t1 = performance.now();
        const s = must(['lockstep', 'reprotect']);
        reprotect.push((performance.now() - t1) / 1000);
        console.log(`#   re-protected in ${reprotect.at(-1).toFixed(1)} s: primary ${s.primary?.name}, secondary ${s.secondary?.name}`);
      }
    }
    report('failover_gap_ms_p50', pct(failoverGaps, 0.5));
    report('failover_gap_ms_p99', pct(failoverGaps, 0.99));
    report('failover_gap_ms_max', Math.max(...failoverGaps));
    report('drill_longest_gap_ms_max', Math.max(...longestGaps));
    report('failover_stream_gap_ms_max', Math.max(...streamGaps));
    report('detection_ms', pct(detection, 0.5));
    report('detection_ms_max', Math.max(...detection));
    // the issue's goal: the longest gap within the detection time + 100 ms, both from this run
    report('failover_gap_over_detection_plus_100_ms', Math.max(...failoverGaps) - (Math.max(...detection) + 100));
    // the same per drill: how far each gap went past its own detection time
    report('failover_gap_minus_detection_ms_p50', pct(overDetection, 0.5));
    report('failover_gap_minus_detection_ms_max', Math.max(...overDetection));
    report('reprotect_seconds', pct(reprotect, 0.5));
    report('reprotect_seconds_max', Math.max(...reprotect));
    for (const mode of MODES) {
      const key = mode.replace(/-/g, '_');
      report(`drill_${key}_passed`, `${byMode[mode].passed}/${byMode[mode].runs}`);
      report(`drill_${key}_gap_ms_max`, Math.max(...byMode[mode].gaps));
      report(`drill_${key}_fault_gap_ms_max`, Math.max(...byMode[mode].faultGaps));
    }
  } finally {
    cli(['lockstep', 'stop']);
    cli(['lab', 'down']);
    rmSync(home, { recursive: true, force: true });
    console.log(`# lockstep bench took ${((performance.now() - t00) / 60000).toFixed(1)} min`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const cliBin = new URL('../../dist/main/transports/cli/bin.js', import.meta.url).pathname;
  await lockstepBench({
    cliBin,
    report: (k, v) => console.log(`${k}: ${typeof v === 'number' ? Math.round(v * 1000) / 1000 : v}`),
    drills: Number(process.argv[2] ?? 5),
  });
}
