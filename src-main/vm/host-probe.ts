/**
 * Pure: the few host facts a VM's findings need (QEMU version and machine types, available memory,
 * OVMF, KVM), read in one SSH round trip by a fixed script (no input of the user in it), and the
 * parsers of that script's output and of `virsh list --all`.
 */
import type { VmHostFacts } from '../contract/index.js';

/** Where distributions put OVMF's code image (Debian/Ubuntu, Fedora/RHEL, SUSE, Arch). */
export const OVMF_PATHS = [
  '/usr/share/OVMF/OVMF_CODE_4M.fd',
  '/usr/share/OVMF/OVMF_CODE.fd',
  '/usr/share/edk2/ovmf/OVMF_CODE.fd',
  '/usr/share/qemu/ovmf-x86_64-code.bin',
  '/usr/share/edk2/x64/OVMF_CODE.fd',
] as const;

const MARK = '@@vm-probe@@';

export const PROBE_SCRIPT = [
  `echo '${MARK} qemu'; qemu-system-x86_64 --version 2>/dev/null | head -n 1`,
  `echo '${MARK} machines'; qemu-system-x86_64 -machine help 2>/dev/null`,
  `echo '${MARK} meminfo'; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo`,
  `echo '${MARK} ovmf'; for f in ${OVMF_PATHS.join(' ')}; do [ -e "$f" ] && echo "$f"; done`,
  `echo '${MARK} kvm'; [ -c /dev/kvm ] && [ -w /dev/kvm ] && echo yes`,
  'exit 0',
].join('\n');

function sections(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith(MARK)) m.set(line.slice(MARK.length).trim(), (cur = []));
    else if (cur && line.trim()) cur.push(line.trimEnd());
  }
  return m;
}

/**
 * `-machine help` lines: `pc   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)`.
 * A versioned type is kept by name; an alias as ALIAS=TARGET.
 */
export function parseMachines(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const m = /^(\S+)\s/.exec(l);
    if (!m || l.startsWith('Supported machines')) continue;
    const alias = /\(alias of ([^)\s]+)\)/.exec(l);
    out.push(alias ? `${m[1]}=${alias[1]}` : m[1]!);
  }
  return out;
}

export function parseProbe(host: string, out: string): VmHostFacts {
  const s = sections(out);
  const qemuLine = s.get('qemu')?.[0] ?? '';
  const v = /QEMU emulator version (\d+\.\d+\.\d+)/.exec(qemuLine);
  const mem = s.get('meminfo') ?? [];
  const kib = (k: string) => {
    const l = mem.find((x) => x.startsWith(`${k}:`));
    const n = l ? /(\d+)/.exec(l) : null;
    return n ? Number(n[1]) : null;
  };
  return {
    host,
    qemuVersion: v ? v[1]! : null,
    machines: parseMachines(s.get('machines') ?? []),
    memAvailableKiB: kib('MemAvailable') ?? kib('MemTotal'),
    ovmf: s.get('ovmf')?.[0] ?? null,
    accel: s.get('kvm')?.[0] === 'yes' ? 'kvm' : 'tcg',
  };
}

/**
 * `virsh list --all`: a header, a rule of dashes, then `Id  Name  State` rows (`-` for a VM that is
 * shut off). Columns are separated by two or more spaces; a state can itself have one space ("shut off").
 */
export function parseVirshList(out: string): { name: string; state: string }[] {
  const lines = out.split('\n');
  const rule = lines.findIndex((l) => /^-{5,}/.test(l.trim()));
  if (rule < 0) return [];
  const rows: { name: string; state: string }[] = [];
  for (const l of lines.slice(rule + 1)) {
    const m = /^\s*(\S+)\s+(.+?)\s{2,}(\S.*?)\s*$/.exec(l);
    if (m) rows.push({ name: m[2]!, state: m[3]! });
  }
  return rows;
}
