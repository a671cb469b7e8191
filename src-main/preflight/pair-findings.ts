/** Pure: findings about the PAIR of hosts (names, QEMU and DRBD versions, accelerators, clocks) and the verdict: which protection tier is possible, and why. */
import {
  vstr,
  cmp,
  q,
  shown,
  HOSTNAME_RE,
  accelFix,
  hostFindings,
  qemuUpgradeFix,
  LAB_DRBD_FIX,
  type Finding,
  type Verdict,
  type PairCheckOptions,
} from './findings.js';
import { installCommand } from '../hosts/distro.js';
import { decideAccel } from '../hosts/accel.js';

import type { HostFacts } from '../hosts/facts/facts.js';

function labelsFor(a: HostFacts, b: HostFacts, opts: PairCheckOptions): [string, string] {
  if (opts.labels) return [opts.labels[0], opts.labels[1]];
  if (a.hostname !== null && b.hostname !== null && a.hostname !== b.hostname) return [a.hostname, b.hostname];
  return ['host A', 'host B'];
}

export function pairFindings(a: HostFacts, b: HostFacts, opts: PairCheckOptions): { findings: Finding[]; verdict: Verdict } {
  const [la, lb] = labelsFor(a, b, opts);
  const hostOpts = { guestRamBytes: opts.guestRamBytes, overheadBytes: opts.overheadBytes, guestDiskBytes: opts.guestDiskBytes, ports: opts.ports };
  const [labA, labB] = opts.labs ?? [undefined, undefined];
  const findings: Finding[] = [...hostFindings(a, { ...hostOpts, label: la, lab: labA }), ...hostFindings(b, { ...hostOpts, label: lb, lab: labB })];
  const add = (f: Finding) => findings.push(f);

  if (a.hostname !== null && a.hostname === b.hostname) {
    const next = HOSTNAME_RE.test(b.hostname) && b.hostname.length < 60 ? `${b.hostname}-b` : 'lockstep-b';
    add({
      id: 'hostnames-differ',
      level: 'fail',
      blocks: 'all',
      what: `Both hosts are named ${shown(a.hostname)}`,
      why: `DRBD tells the two sides apart by uname -n (its \`on\` sections). Rename ${lb}, then run the preflight again.`,
      fix: b.initSystem === 'systemd' ? `hostnamectl set-hostname ${q(next)}` : `hostname ${q(next)} && echo ${q(next)} > /etc/hostname`,
    });
  } else if (a.hostname !== null && b.hostname !== null) add({ id: 'hostnames-differ', level: 'ok', what: 'The hosts have different names', why: '', fix: '' });

  const va = a.qemu.version;
  const vb = b.qemu.version;
  if (va && vb) {
    if (cmp(va, vb) !== 0) {
      add({
        id: 'qemu-match',
        level: 'fail',
        blocks: 'lockstep',
        what: `QEMU differs: ${vstr(va)} on ${la}, ${vstr(vb)} on ${lb}`,
        why: "COLO sends the guest's state between the two QEMUs at every checkpoint: both hosts need the same version (Debian 12's 7.2 on both, or the same ≥ 10.0.7 on both). Run the fix on both hosts, from the same distribution release.",
        fix: sameFix(qemuUpgradeFix(a), qemuUpgradeFix(b), la, lb),
      });
    } else add({ id: 'qemu-match', level: 'ok', what: `QEMU ${vstr(va)} on both hosts`, why: '', fix: '' });
  }

  const accA = decideAccel(a).accel;
  const accB = decideAccel(b).accel;
  if (accA !== accB) {
    const tcgHost = accA === 'tcg' ? a : b;
    add({
      id: 'accel-match',
      level: 'warn',
      what: `KVM on ${accA === 'kvm' ? la : lb}, TCG on ${accA === 'tcg' ? la : lb}`,
      why: 'COLO needs identical QEMU configuration on both sides, so the pair can only run with the accelerator both have (TCG: demo speed).',
      fix: accelFix(tcgHost, accA === 'tcg' ? labA : labB),
    });
  }

  const ma = a.drbd.apiMajor;
  const mb = b.drbd.apiMajor;
  if (ma !== null && mb !== null) {
    if (ma !== mb)
      add({
        id: 'drbd-match',
        level: 'fail',
        blocks: 'mirror',
        what: `DRBD differs: ${a.drbd.kernelVersion} on ${la}, ${b.drbd.kernelVersion} on ${lb}`,
        why: 'DRBD 8.4 and 9 use different metadata (v08/v09) and configuration (node-id); both sides must run the same generation.',
        fix:
          labA || labB
            ? LAB_DRBD_FIX
            : `Run the same DRBD generation on both hosts: install DRBD ${ma === 8 ? '8.4' : '9'} (as on ${la}) on ${lb}, or DRBD ${mb === 8 ? '8.4' : '9'} (as on ${lb}) on ${la}`,
      });
    else add({ id: 'drbd-match', level: 'ok', what: `DRBD ${ma === 8 ? '8.4' : '9'} on both hosts`, why: '', fix: '' });
  }

  const off = opts.clockOffsetSeconds;
  if (off !== undefined && off !== null && Number.isFinite(off)) {
    const abs = Math.abs(off);
    const what = `Clocks differ by ${abs < 10 ? abs.toFixed(2) : abs.toFixed(0)} s`;
    const why = 'Event logs, drill timings and the downtime meter compare the two hosts’ clocks. Keep both synchronized (chrony) on both hosts.';
    const fix = sameFix(chronyFix(a), chronyFix(b), la, lb);
    if (abs > 30) add({ id: 'clock', level: 'fail', blocks: 'all', what, why, fix });
    else if (abs > 1) add({ id: 'clock', level: 'warn', what, why, fix });
    else add({ id: 'clock', level: 'ok', what, why: '', fix: '' });
  }

  return { findings, verdict: verdictOf(a, b, findings) };
}

/** One command when both hosts take the same, else each host's own. */
function sameFix(fa: string, fb: string, la: string, lb: string): string {
  return fa === fb ? `${fa}   (on both hosts)` : `On ${la}: ${fa}; on ${lb}: ${fb}`;
}

function chronyFix(h: HostFacts): string {
  const install = installCommand(h.os.family, ['chrony']);
  return install ?? 'Install and start chrony (an NTP client)';
}

function verdictOf(a: HostFacts, b: HostFacts, findings: readonly Finding[]): Verdict {
  const fails = findings.filter((f) => f.level === 'fail');
  const warns = findings.filter((f) => f.level === 'warn').length;
  const whats = (fs: readonly Finding[]) => fs.map((f) => (f.host ? `${f.host}: ${f.what}` : f.what)).join('; ');
  const drbdBoth = a.drbd.apiMajor !== null && a.drbd.apiMajor === b.drbd.apiMajor && a.drbd.utilsVersion !== null && b.drbd.utilsVersion !== null;
  const drbdText = drbdBoth ? `DRBD ${a.drbd.apiMajor === 8 ? '8.4' : '9'} on both hosts` : '';
  const warnText = warns > 0 ? ` (${warns} warning${warns > 1 ? 's' : ''} to read)` : '';
  const pieces = (h: HostFacts) => Object.values(h.qemu.coloPieces).every(Boolean);
  const v = a.qemu.version;
  const qemuBoth = v !== null && b.qemu.version !== null && cmp(v, b.qemu.version) === 0 && pieces(a) && pieces(b);

  const blockAll = fails.filter((f) => f.blocks === undefined || f.blocks === 'all');
  const blockLockstep = fails.filter((f) => f.blocks === 'lockstep');
  // Lockstep needs matching QEMU with COLO; the disks are made identical by DRBD where the pair has it, else by a full copy.
  if (blockAll.length === 0 && blockLockstep.length === 0 && qemuBoth)
    return {
      tier: 'lockstep',
      why: `QEMU ${vstr(v)} with every COLO piece on both hosts; disks made identical by ${drbdBoth ? drbdText : 'a full copy (no DRBD on both hosts)'}${warnText}.`,
    };
  if (blockAll.length === 0 && drbdBoth)
    return {
      tier: 'mirror',
      why: `Lockstep is not possible (${whats(blockLockstep) || 'QEMU differs or lacks COLO pieces'}); ${drbdText} mirror the disk and the guest restarts on the survivor${warnText}.`,
    };
  const reasons = whats(blockAll) || whats(fails) || 'QEMU lacks COLO and DRBD is not usable on both hosts';
  return { tier: 'none', why: `Neither lockstep nor a DRBD mirror: ${reasons}.` };
}
