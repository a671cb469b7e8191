// The Mirror tier (Pacemaker + Corosync over the DRBD mirror, the demo guest as its resource) on a
// kernel lab: setup from a mirrored pair, the restart gap an ordinary client (the lab's client
// namespace) saw when the guest's QEMU was killed and when its host was powered off, and what DRBD
// resynced when that host returned. One run of each, every figure measured in this run.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, onHost } from './pair-disk-bench.mjs';

/**
 * The CLI, plus the client probe in the background: polls until a gap has ended (or `seconds`);
 * `untilRecovered: false` polls for the whole `seconds`.
 */
function tierClient(cliBin, env) {
  const probe = (seconds, untilRecovered = true) =>
    new Promise((resolve, reject) => {
      const args = ['lab', 'client', 'http', '--seconds', String(seconds), '--interval-ms', '200', ...(untilRecovered ? ['--until-recovered'] : []), '--json'];
      const child = spawn(process.execPath, [cliBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => {
        const v = JSON.parse(out || '{}');
        return v.ok ? resolve(v.value) : reject(new Error(`client probe: ${out.slice(0, 300)}`));
      });
    });
  return { ...client(cliBin, env), probe };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A restart as the client saw it: answers before and after, none lost (the counter never went back). */
function restartGap(seen, what) {
  if (!seen.failedRunMs || seen.wentBackwards || seen.last?.boot === seen.first?.boot)
    throw new Error(`${what}: the client did not see one clean restart: ${JSON.stringify(seen)}`);
  return seen.failedRunMs / 1000;
}

export async function mirrorTierBench({ root, cliBin, report, kind }) {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-mirrortier-'));
  const env = { LOCKSTEP_HOME: home, LOCKSTEP_LAB_PREFIX: 'lbt', LOCKSTEP_LAB_NET: '198.18.72', LOCKSTEP_LAB_KERNEL: kind };
  const { cli, j, probe } = tierClient(cliBin, env);
  const rep = (name, v) => report(`${name}_${kind}`, v);
  cli(['lab', 'down']);
  try {
    let lab = j(['lab', 'up', '--kernel']);
    const host = (name) => lab.hosts.find((h) => h.name === name);
    j(['hosts', 'add-lab']);
    j(['link', 'setup', 'hostA', 'hostB']);
    j(['mirror', 'setup', '--blank']);
    let t0 = performance.now();
    const st = j(['cluster', 'setup', '--token-ms', '1000', '--guest', 'demo']);
    rep('mirror_tier_setup_seconds', (performance.now() - t0) / 1000);
    const first = await probe(300);
    if (!first.answers) throw new Error(`the guest never answered: ${JSON.stringify(first)}`);
    rep('mirror_tier_setup_to_first_answer_seconds', (performance.now() - t0) / 1000);
    let on = st.guest.node;
    // 1. the guest's QEMU killed: Pacemaker's monitor sees it, stops and starts it again
    let seen = probe(300);
    await sleep(3000);
    await onHost(root, lab, host(on), 'kill -9 "$(cat /run/lockstep-guest/demo.pid)"');
    rep('mirror_tier_restart_gap_seconds_kill_vm', restartGap(await seen, 'kill-vm'));
    on = j(['cluster', 'status']).guest.node;
    // 2. its host powered off: DRBD promoted on the other, the guest started there
    seen = probe(300);
    await sleep(3000);
    j(['lab', 'power', on, 'off']);
    rep('mirror_tier_restart_gap_seconds_power_off', restartGap(await seen, 'power-off'));
    // 3. the host returns: DRBD resyncs from the bitmaps (the kernel log's figures)
    lab = j(['lab', 'power', on, 'on']);
    j(['link', 'setup', 'hostA', 'hostB']);
    t0 = performance.now();
    j(['cluster', 'setup']);
    const { lastResync } = await import(join(root, 'dist/main/mirror/kernel-log.js'));
    let resync = null;
    for (let i = 0; i < 240 && !resync; i++) {
      if ((await onHost(root, lab, host(on), 'drbdadm dstate r0')).trim() === 'UpToDate/UpToDate')
        resync = lastResync(await onHost(root, lab, host(on), 'dmesg'), 0);
      if (!resync) await sleep(500);
    }
    if (!resync) throw new Error('the returned host did not resync');
    rep('mirror_tier_rejoin_seconds', (performance.now() - t0) / 1000);
    rep('mirror_tier_resync_bytes', resync.resyncKiB * 1024);
    // from sysfs (512-byte sectors): a Secondary's /dev/drbd0 cannot be opened (blockdev: Wrong medium type)
    rep('mirror_tier_device_bytes', Number((await onHost(root, lab, host(on), 'cat /sys/block/drbd0/size')).trim()) * 512);
    // 4. a witness (corosync-qnetd run by the app), then both links between the hosts cut: the half
    //    without the guest loses quorum (when, polled every 0.5 s); the client's longest gap meanwhile
    t0 = performance.now();
    const w = j(['cluster', 'setup', '--witness', 'local']);
    rep('mirror_tier_witness_setup_seconds', (performance.now() - t0) / 1000);
    const keeper = w.guest.node;
    const loser = keeper === 'hostA' ? 'hostB' : 'hostA';
    const during = probe(45, false);
    await sleep(3000);
    const cut = performance.now();
    j(['lab', 'split', 'on']);
    let unquorate = null;
    while (unquorate === null && performance.now() - cut < 60_000) {
      const q = await onHost(root, lab, host(loser), 'corosync-quorumtool -s; true');
      if (/^Quorate:\s+No/m.test(q)) unquorate = (performance.now() - cut) / 1000;
      else await sleep(500);
    }
    if (unquorate === null) throw new Error(`${loser} kept quorum 60 s into the split`);
    rep('mirror_tier_split_loser_unquorate_seconds', unquorate);
    const split = await during;
    if (split.wentBackwards || split.last?.boot !== split.first?.boot)
      throw new Error(`the guest restarted or lost writes during the split: ${JSON.stringify(split)}`);
    rep('mirror_tier_split_client_gap_ms', split.longestGapMs);
    j(['lab', 'split', 'off']);
    cli(['cluster', 'remove', '--confirm', 'lockstep']);
  } finally {
    cli(['lab', 'down']);
    rmSync(home, { recursive: true, force: true });
  }
}
