// Host maintenance figures on the namespace lab (issue 20): protect, arm the host agents, then N cycles of
// enter maintenance on the primary's host (a planned switchover) → power it off and on → exit with
// --failback (a second switchover), and one cycle on the secondary's host (no switchover). Each figure is
// what the maintenance report measured: the drill's meter in the client namespace (an ordinary client
// and a TCP stream) across each switchover, the time unprotected, the bytes re-protect copied.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonCli } from './json-cli.mjs';

export async function maintenanceBench({ cliBin, report, cycles = 2 }) {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-maint-'));
  const env = { ...process.env, LOCKSTEP_HOME: home, LOCKSTEP_LAB_PREFIX: 'lbm', LOCKSTEP_LAB_NET: '198.18.75' };
  const { cli, must } = jsonCli(cliBin, env, 900_000);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const max = (xs) => (xs.length ? Math.max(...xs) : null);
  const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] : null);
  const t00 = performance.now();
  const gaps = [];
  const streams = [];
  const unprotected = { primary: [], secondary: [] };
  const resync = [];
  const joins = [];
  try {
    cli(['lab', 'down']);
    must(['lab', 'up']);
    must(['hosts', 'add-lab']);
    must(['lockstep', 'protect', 'hostA', 'hostB']);
    for (let k = 0; k < 120; k++) {
      const c = cli(['lab', 'client', 'http', '--seconds', '0.3']);
      if (c.ok && c.value.answers > 0) break;
      await sleep(1000);
    }
    must(['agent', 'deploy']);
    const cycle = async (role) => {
      const st = must(['lockstep', 'status']);
      const host = role === 'primary' ? st.primary.name : st.secondary.name;
      must(['host', 'maintenance', 'enter', host]);
      must(['lab', 'power', host, 'off']);
      await sleep(2000);
      must(['lab', 'power', host, 'on']);
      const out = must(['host', 'maintenance', 'exit', host, ...(role === 'primary' ? ['--failback'] : [])]);
      const r = out.report;
      for (const g of r.gaps.filter((x) => x.what !== 'reprotect')) {
        if (g.ordinaryClientMs !== null) gaps.push(g.ordinaryClientMs);
        if (g.streamMs !== null) streams.push(g.streamMs);
      }
      // the re-protect's join is a client-visible moment of the cycle too: reported beside the switchovers
      for (const g of r.gaps.filter((x) => x.what === 'reprotect')) if (g.ordinaryClientMs !== null) joins.push(g.ordinaryClientMs);
      unprotected[role].push(r.unprotectedSeconds);
      resync.push(r.resyncBytes);
    };
    for (let i = 0; i < cycles; i++) await cycle('primary');
    await cycle('secondary');
    // every switchover's figure, not only the worst and the median
    report('maintenance_switchover_gaps_ms', gaps.join(' '));
    report('maintenance_switchover_stream_gaps_ms', streams.join(' '));
    report('maintenance_switchover_gap_ms', max(gaps));
    report('maintenance_reprotect_join_gaps_ms', joins.join(' '));
    report('maintenance_switchover_gap_ms_p50', pct(gaps, 0.5));
    report('maintenance_switchover_stream_gap_ms', max(streams));
    report('maintenance_unprotected_seconds', max(unprotected.primary));
    report('maintenance_unprotected_seconds_secondary_host', max(unprotected.secondary));
    report('maintenance_resync_bytes', max(resync));
  } finally {
    cli(['agent', 'stop']);
    cli(['lockstep', 'stop']);
    cli(['lab', 'down']);
    rmSync(home, { recursive: true, force: true });
    console.log(`# maintenance bench took ${((performance.now() - t00) / 60000).toFixed(1)} min`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const cliBin = new URL('../../dist/main/transports/cli/bin.js', import.meta.url).pathname;
  await maintenanceBench({
    cliBin,
    report: (k, v) => console.log(`${k}: ${typeof v === 'number' ? Math.round(v * 1000) / 1000 : v}`),
    cycles: Number(process.argv[2] ?? 2),
  });
}
