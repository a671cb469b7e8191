// Disks under the lockstep pair: DRBD's seed and its bitmap-based re-protect on a guest disk of
// ≥ 1 GiB (kernel lab: data disks of 1100M), and beside it the full copy a pair without DRBD makes
// on a disk of the same size (namespace lab; those hosts are faster than kernel hosts, so this
// comparison flatters the full copy). Every figure is measured in this run.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MiB = 2 ** 20;
const WRITE_MIB = 64;

export function client(cliBin, env) {
  const cli = (args) => spawnSync(process.execPath, [cliBin, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 900_000 });
  const j = (args) => {
    const r = cli([...args, '--json']);
    const v = JSON.parse(r.stdout || '{}');
    if (!v.ok) throw new Error(`lockstep ${args.join(' ')}: ${JSON.stringify(v.error ?? r.stderr)}`);
    return v.value;
  };
  return { cli, j };
}

export async function onHost(root, lab, h, script, ...args) {
  const { SshSession } = await import(join(root, 'dist/main/hosts/ssh-session.js'));
  const s = await SshSession.connect({ address: h.address, port: h.port, user: 'root', keyFile: lab.keyFile, fingerprint: h.fingerprint });
  try {
    return await s.check(['sh', '-c', script, 'sh', ...args], { timeoutMs: 300_000 });
  } finally {
    s.dispose();
  }
}

/** Writes WRITE_MIB MiB at 256 MiB into the survivor's DRBD device (past the guest's 16 MiB): the known amount written while apart. */
const WRITE = 'yes "$1" | head -c "$2" | dd of=/dev/drbd0 bs=1M seek=256 iflag=fullblock oflag=direct status=none';

/** Reports one re-protect's resync against what was written while apart. */
function resyncFigures(report, s, deviceBytes, suffix) {
  const r = s.lastResync;
  if (!r || r.how !== 'drbd') throw new Error(`re-protect did not resync with DRBD: ${JSON.stringify(r)}`);
  const written = WRITE_MIB * MiB;
  report(`reprotect_resync_bytes${suffix}`, r.bytes);
  // the union of both bitmaps over what was written while apart (goal ≤ 1.2); what DRBD copied beyond
  // the writes (the guest's own blocks, a crashed host's activity-log extents) is reported apart
  report(`reprotect_resync_over_written_ratio${suffix}`, r.bytes / written);
  report(`reprotect_resync_beyond_written_bytes${suffix}`, r.bytes - written);
  report(`reprotect_returned_host_bitmap_bytes${suffix}`, r.targetBitmapBytes ?? 0);
  report(`reprotect_al_marked_bytes${suffix}`, r.alMarkedBytes ?? 0);
  report(`reprotect_resync_over_disk_ratio${suffix}`, r.bytes / deviceBytes);
  // the second re-protect asks for drbdadm verify (it reads both disks whole; the first, timed beside the full copy, does not)
  if (r.verifiedOutOfSyncBytes != null) report(`reprotect_verify_out_of_sync_bytes${suffix}`, r.verifiedOutOfSyncBytes);
}

export async function pairDiskBench({ root, cliBin, report, kind }) {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-pairdisk-'));
  const env = {
    LOCKSTEP_HOME: home,
    LOCKSTEP_LAB_PREFIX: 'lbp',
    LOCKSTEP_LAB_NET: '198.18.86',
    LOCKSTEP_LAB_KERNEL: kind,
    LOCKSTEP_LAB_DATA_SIZE: '1100M',
  };
  const { cli, j } = client(cliBin, env);
  const rep = (name, v) => report(`${name}_${kind}`, v);
  cli(['lab', 'down']);
  try {
    const lab = j(['lab', 'up', '--kernel']);
    const host = (name) => lab.hosts.find((h) => h.name === name);
    j(['hosts', 'add-lab']);
    j(['link', 'setup', 'hostA', 'hostB']);
    j(['mirror', 'setup']);
    const seed = j(['events', 'list', '--query', 'Initial sync of', '--limit', '50'])
      .filter((e) => e.data?.initial_sync_mib_s != null)
      .pop().data;
    rep('seed_sync_mib_s', seed.initial_sync_mib_s);
    // no share of the link: blank disks sync by checksum (csums-alg), nothing crosses the link
    const deviceBytes = Number((await onHost(root, lab, host('hostA'), 'blockdev --getsize64 /dev/drbd0')).trim());
    rep('guest_disk_bytes', deviceBytes);
    const p = j(['lockstep', 'protect', 'hostA', 'hostB']);
    if (p.diskSync !== 'drbd') throw new Error(`protect: diskSync ${p.diskSync}`);
    // 1. the primary's VM killed: hostB serves alone; 64 MiB written there while apart; hostA rejoins
    const d1 = j(['drill', 'run', 'kill-primary-vm']);
    if (d1.after.state !== 'failed-over') throw new Error(`drill: ${JSON.stringify(d1.after)}`);
    await onHost(root, lab, host(d1.after.survivor.name), WRITE, 'bench-kill', String(WRITE_MIB * MiB));
    let t0 = performance.now();
    const s1 = j(['lockstep', 'reprotect']);
    rep('reprotect_seconds_drbd', (performance.now() - t0) / 1000);
    resyncFigures(rep, s1, deviceBytes, '');
    // 2. the primary's host powered off (a crash: its activity log's extents are resynced too)
    const d2 = j(['drill', 'run', 'power-off-host']);
    if (d2.after.state !== 'failed-over') throw new Error(`drill: ${JSON.stringify(d2.after)}`);
    await onHost(root, lab, host(d2.after.survivor.name), WRITE, 'bench-power', String(WRITE_MIB * MiB));
    j(['lab', 'power', d2.after.lost.name, 'on']);
    t0 = performance.now();
    const s2 = j(['lockstep', 'reprotect', '--verify']);
    rep('reprotect_seconds_drbd_power_off', (performance.now() - t0) / 1000);
    resyncFigures(rep, s2, deviceBytes, '_power_off');
    cli(['agent', 'stop']);
    cli(['lockstep', 'stop']);
  } finally {
    cli(['lab', 'down']);
    rmSync(home, { recursive: true, force: true });
  }
  await fullCopyBench({ cliBin, report: rep });
}

/** The same size of guest disk without DRBD (namespace lab): protect copies it host to host, re-protect copies all of it again. */
export async function fullCopyBench({ cliBin, report }) {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-bench-fullcopy-'));
  const prefix = 'lbf';
  const env = { LOCKSTEP_HOME: home, LOCKSTEP_LAB_PREFIX: prefix, LOCKSTEP_LAB_NET: '198.18.88' };
  const { cli, j } = client(cliBin, env);
  cli(['lab', 'down']);
  try {
    j(['lab', 'up']);
    j(['hosts', 'add-lab']);
    // hostA's guest disk: 1100 MiB, blank (the demo guest uses its first KiB); made where the host keeps it
    const dir = join(home, 'lab', prefix, 'hostA', 'fs', 'var-lib-lockstep', 'guest');
    mkdirSync(dir, { recursive: true });
    spawnSync('truncate', ['-s', '1100M', join(dir, 'disk.img')]);
    let t0 = performance.now();
    const p = j(['lockstep', 'protect', 'hostA', 'hostB']);
    if (p.diskSync !== 'full-copy') throw new Error(`protect: diskSync ${p.diskSync}`);
    report('protect_seconds_full_copy', (performance.now() - t0) / 1000);
    const d = j(['drill', 'run', 'kill-primary-vm']);
    if (d.after.state !== 'failed-over') throw new Error(`drill: ${JSON.stringify(d.after)}`);
    t0 = performance.now();
    const s = j(['lockstep', 'reprotect']);
    report('reprotect_seconds_full_copy', (performance.now() - t0) / 1000);
    report('reprotect_full_copy_bytes', s.lastResync?.bytes ?? -1);
    cli(['agent', 'stop']);
    cli(['lockstep', 'stop']);
  } finally {
    cli(['lab', 'down']);
    rmSync(home, { recursive: true, force: true });
  }
}
