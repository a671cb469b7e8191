/**
 * Pure: HostFacts → findings a person can act on (the verdict for a pair is in pair-findings).
 * No I/O. Every `fix` is the exact command to run as root on the host the finding names (or,
 * where no command exists, the exact action). Values from the host reach a command only through
 * quoteArg, so a hostile NIC or host name stays data.
 * The rules are in system-findings, qemu-findings, drbd-findings and network-findings; what they share is in findings-common.
 */
import { diskFinding, drbdFindings, hostnameFinding } from './drbd-findings.js';
import type { HostFacts } from '../hosts/facts/facts.js';
import type { Emit, Finding, HostCheckOptions } from './findings-common.js';
import { crossoverFinding, firewallFinding, iperf3Finding } from './network-findings.js';
import { accelFinding, qemuFindings } from './qemu-findings.js';
import { accessFinding, archFinding, completeFinding, initFinding, memoryFinding } from './system-findings.js';
import { toolsFindings } from './tools-findings.js';

export { cmp, DEFAULT_OVERHEAD_BYTES, DEFAULT_PORTS, GiB, MiB, q, shown, size, sudoersFix, vstr } from './findings-common.js';
export type { Finding, FindingLevel, HostCheckOptions, PairCheckOptions, PortUse, Tier, Verdict } from './findings-common.js';
export { HOSTNAME_RE } from './drbd-findings.js';
export { candidateDisks } from '../hosts/facts/candidate-disks.js';
export { crossoverCandidates } from './network-findings.js';
export { accelFix, COLO_BROKEN_QEMU, INSTALL_QEMU, isColoBroken, qemuUpgradeFix } from './qemu-findings.js';
export { drbdModuleFix } from './drbd-findings.js';
export { LAB_DRBD_FIX } from './findings-common.js';

/** Every rule for one host, in a fixed order. */
export function hostFindings(facts: HostFacts, opts: HostCheckOptions = {}): Finding[] {
  const host = opts.label ?? facts.hostname ?? 'host';
  const out: Finding[] = [];
  const add = (f: Omit<Finding, 'host'>) => out.push({ ...f, host });
  const ok = (id: string, what: string, why = '') => add({ id, level: 'ok', what, why, fix: '' });
  const emit: Emit = { add, ok };

  completeFinding(facts, emit);
  accessFinding(facts, emit);
  archFinding(facts, emit);
  toolsFindings(facts, emit);
  const accel = accelFinding(facts, emit, opts.lab);
  qemuFindings(facts, accel, emit, opts.lab);
  drbdFindings(facts, emit, opts.lab);
  hostnameFinding(facts, emit);
  memoryFinding(facts, opts, emit);
  crossoverFinding(facts, emit);
  diskFinding(facts, opts, emit);
  firewallFinding(facts, opts, emit);
  initFinding(facts, emit);
  iperf3Finding(facts, emit);

  return out;
}
