/** Pure: findings about the host itself: complete facts, root access, the architecture, memory for the guest and a COLO secondary, the init system. */
import type { HostFacts } from '../hosts/facts/facts.js';
import { DEFAULT_OVERHEAD_BYTES, size, sudoersFix, type Emit, type HostCheckOptions } from './findings-common.js';

export function completeFinding(facts: HostFacts, { add }: Emit): void {
  if (!facts.complete)
    add({
      id: 'gather-complete',
      level: 'warn',
      what: 'The facts output was cut off',
      why: 'The gather script did not reach its end: facts after the cut are unknown and reported as missing below.',
      fix: 'Run the preflight again',
    });
}

export function accessFinding(facts: HostFacts, { add, ok }: Emit): void {
  // access: setup runs modprobe, drbdadm, ip, nft and QEMU as root
  if (facts.isRoot) ok('access', 'Logged in as root');
  else if (facts.sudoOk) ok('access', `Passwordless sudo for ${facts.user ?? 'the SSH user'}`);
  else
    add({
      id: 'access',
      level: 'fail',
      blocks: 'all',
      what: `${facts.user ?? 'The SSH user'} is not root and has no passwordless sudo`,
      why: 'Setup runs modprobe, drbdadm, ip, nft and QEMU as root over a non-interactive SSH session, where sudo cannot ask for a password. Run the fix as root (su -).',
      fix: sudoersFix(facts.user, facts.os),
    });
}

export function archFinding(facts: HostFacts, { add }: Emit): void {
  if (facts.arch !== null && facts.arch !== 'x86_64')
    add({
      id: 'arch',
      level: 'fail',
      blocks: 'all',
      what: `Architecture ${facts.arch} is not x86_64`,
      why: 'Lockstep Lab runs x86_64 guests with qemu-system-x86_64 and needs an x86_64 host.',
      fix: 'Use an x86_64 host',
    });
}

export function memoryFinding(facts: HostFacts, opts: HostCheckOptions, { add, ok }: Emit): void {
  // memory
  if (opts.guestRamBytes !== undefined) {
    const overhead = opts.overheadBytes ?? DEFAULT_OVERHEAD_BYTES;
    const needMirror = opts.guestRamBytes + overhead;
    const needColo = 2 * opts.guestRamBytes + overhead;
    const m = facts.memory;
    if (m === null)
      add({
        id: 'memory',
        level: 'warn',
        what: 'Could not read /proc/meminfo',
        why: `The secondary needs about ${size(needColo)} free.`,
        fix: 'Run the preflight again',
      });
    else if (m.availableBytes < needMirror)
      add({
        id: 'memory',
        level: 'fail',
        blocks: 'all',
        what: `${size(m.availableBytes)} available: the guest (${size(opts.guestRamBytes)}) cannot run here`,
        why: `Needs guest RAM + ${size(overhead)} QEMU overhead = ${size(needMirror)} (total ${size(m.totalBytes)}).`,
        fix: `Free memory on this host or give the guest less RAM (needs ${size(needMirror)} available)`,
      });
    else if (m.availableBytes < needColo)
      add({
        id: 'memory',
        level: 'fail',
        blocks: 'lockstep',
        what: `${size(m.availableBytes)} available: too little for a COLO secondary`,
        why: `The COLO secondary keeps a RAM cache copy: about 2 × guest RAM + ${size(overhead)} = ${size(needColo)}. Either host becomes the secondary after a failover.`,
        fix: `Free memory on this host or give the guest less RAM (needs ${size(needColo)} available)`,
      });
    else ok('memory', `${size(m.availableBytes)} available`, `Enough for a COLO secondary (${size(needColo)}).`);
  }
}

export function initFinding(facts: HostFacts, { add, ok }: Emit): void {
  // init system
  if (facts.initSystem === 'systemd') ok('init', 'systemd: the host agent installs as a unit');
  else
    add({
      id: 'init',
      level: 'warn',
      what: `No systemd (PID 1: ${facts.pid1 ?? 'unknown'}): the host agent runs without a unit`,
      why: 'Without a unit nothing restarts the agent after a crash or a reboot; failover decisions live in the agent.',
      fix: "Start the agent from this host's boot scripts after setup (e.g. /etc/rc.local)",
    });
}
