/**
 * Pure: the output of GATHER_SCRIPT → HostFacts. No I/O. Every value is plain data; a missing,
 * failed or garbled section yields "unknown" (null / false / []) and never throws.
 * The sources are read by parse-sections, parse-qemu, parse-drbd, parse-network, parse-disks and parse-firewall.
 */
import { parseCpuFlags } from '../accel.js';
import { parseOsRelease, UNKNOWN_OS } from '../distro.js';
import type { HostFacts, MemoryFacts, ProbeFacts } from './facts.js';
import { parseDisks } from './parse-disks.js';
import { parseDrbd } from './parse-drbd.js';
import { parseFirewall } from './parse-firewall.js';
import { defaultRoute, parseNics } from './parse-network.js';
import { parseQemu } from './parse-qemu.js';
import { firstLine, ok, parseJson, splitSections, type Section } from './parse-sections.js';

function parseMemory(s: Map<string, Section>): MemoryFacts | null {
  let total: number | null = null;
  let avail: number | null = null;
  for (const l of ok(s, 'meminfo') ?? []) {
    const m = /^(MemTotal|MemAvailable):\s+(\d+)\s*kB/.exec(l);
    if (m?.[1] === 'MemTotal') total = Number(m[2]) * 1024;
    if (m?.[1] === 'MemAvailable') avail = Number(m[2]) * 1024;
  }
  return total !== null && avail !== null ? { totalBytes: total, availableBytes: avail } : null;
}

/** `programs`: NAME<TAB>PATH lines (`-` = not found). */
function parsePrograms(s: Map<string, Section>): Record<string, string | null> | null {
  const lines = ok(s, 'programs');
  if (lines === null) return null;
  const out: Record<string, string | null> = {};
  for (const l of lines) {
    const m = /^([a-z0-9._+-]+)\t(.*)$/.exec(l);
    if (m) out[m[1]!] = m[2] === '-' || m[2] === '' ? null : m[2]!;
  }
  return out;
}

function parseProbes(s: Map<string, Section>): ProbeFacts {
  const ran = (name: string): boolean | null => {
    const sec = s.get(name);
    if (!sec) return null;
    return !sec.missing && sec.rc === 0;
  };
  const json = parseJson(ok(s, 'probe-ip-json'));
  return {
    ipJson: s.has('probe-ip-json') ? Array.isArray(json) : null,
    pingDf: ran('probe-ping-df'),
    ss: ran('probe-ss'),
    timeout: ran('probe-timeout'),
    setsid: ran('probe-setsid'),
  };
}

export function parseGatherOutput(text: string): HostFacts {
  const s = splitSections(text);
  const kvm = firstLine(s, 'kvm');
  const init = ok(s, 'init') ?? [];
  const pid1 = init.map((l) => l.trim()).find((l) => l !== '' && l !== 'systemd-booted') ?? null;
  const userLines = (ok(s, 'user') ?? []).map((l) => l.trim());
  const uid = userLines[0] !== undefined && /^\d+$/.test(userLines[0]) ? Number(userLines[0]) : null;
  const clock = firstLine(s, 'clock');
  const clockMatch = clock !== null ? /^\d+(\.\d+)?/.exec(clock) : null;
  const endLine = firstLine(s, 'end');
  return {
    complete: endLine === 'end',
    hostname: firstLine(s, 'hostname'),
    kernel: firstLine(s, 'kernel'),
    arch: firstLine(s, 'arch'),
    cpuFlags: parseCpuFlags((ok(s, 'cpu-flags') ?? []).join('\n')),
    kvmDevice: kvm !== null && kvm.startsWith('present'),
    kvmAccess: kvm === 'present rw',
    qemu: parseQemu(s),
    drbd: parseDrbd(s),
    memory: parseMemory(s),
    nics: parseNics(s),
    defaultRouteDev: defaultRoute(s, 'ip-route') ?? defaultRoute(s, 'ip-route6'),
    disks: parseDisks(s),
    initSystem: init.some((l) => l.trim() === 'systemd-booted') ? 'systemd' : 'other',
    pid1,
    clockEpochSeconds: clockMatch ? Number(clockMatch[0]) : null,
    uid,
    user: userLines[1] || null,
    isRoot: uid === 0,
    sudoOk: uid !== 0 && firstLine(s, 'sudo') === 'ok',
    firewall: parseFirewall(s),
    hasIperf3: (firstLine(s, 'iperf3') ?? '') !== '',
    os: s.has('os-release') ? parseOsRelease((ok(s, 'os-release') ?? []).join('\n'), firstLine(s, 'pve') === 'pve') : UNKNOWN_OS,
    programs: parsePrograms(s),
    probes: parseProbes(s),
  };
}
