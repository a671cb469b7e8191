/**
 * Pure: the output of GATHER_SCRIPT → HostFacts. No I/O. Every value is plain data; a missing,
 * failed or garbled section yields "unknown" (null / false / []) and never throws.
 */
import { parseCpuFlags } from '../hosts/accel.js';
import type { DiskFacts, DrbdFacts, FirewallFacts, HostFacts, MemoryFacts, NftChainRef, NicFacts, NicKind, QemuFacts, Version } from './facts.js';

export interface Section {
  /** stdout lines (without the trailing `!rc=` line). */
  lines: string[];
  /** Exit status; null when the program is missing or the status line was cut off. */
  rc: number | null;
  missing: boolean;
}

const HEADER = /^=== ([a-z0-9-]+)(?: @([A-Za-z0-9-]+))? ===$/;

/**
 * Splits the output into sections. The first header's token (if any) is the run's: only headers
 * with that token open a section, so a line of output cannot. The first section of a name wins.
 */
export function splitSections(text: string): Map<string, Section> {
  const out = new Map<string, Section>();
  let token: string | undefined | null = null;
  let name: string | null = null;
  let lines: string[] = [];
  const close = () => {
    if (name === null || out.has(name)) return;
    const last = lines[lines.length - 1];
    const m = last !== undefined ? /^!rc=(\d+)$/.exec(last) : null;
    if (m) out.set(name, { lines: lines.slice(0, -1), rc: Number(m[1]), missing: false });
    else if (lines.length === 1 && last === '!missing') out.set(name, { lines: [], rc: null, missing: true });
    else out.set(name, { lines, rc: null, missing: false });
  };
  const all = text.replace(/\r\n/g, '\n').split('\n');
  while (all.length > 0 && all[all.length - 1] === '') all.pop();
  for (const line of all) {
    const h = HEADER.exec(line);
    if (h && token === null) token = h[2];
    if (h && h[2] === token) {
      close();
      name = h[1]!;
      lines = [];
    } else if (name !== null) {
      lines.push(line);
    }
  }
  close();
  return out;
}

/** Lines of a section that ran and succeeded (exit 0), else null. */
function ok(s: Map<string, Section>, name: string): string[] | null {
  const sec = s.get(name);
  return sec && sec.rc === 0 ? sec.lines : null;
}

function firstLine(s: Map<string, Section>, name: string): string | null {
  const l = ok(s, name)?.find((x) => x.trim() !== '');
  return l === undefined ? null : l.trim();
}

function parseJson(lines: string[] | null): unknown {
  if (!lines) return null;
  try {
    return JSON.parse(lines.join('\n')) as unknown;
  } catch {
    return null;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return null;
};
const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 'true';

export function parseVersion(text: string): Version | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? 0 : Number(m[3]) } : null;
}

function parseQemu(s: Map<string, Section>): QemuFacts {
  let versionText: string | null = null;
  const vLine = ok(s, 'qemu-version')?.find((l) => /QEMU emulator version /.test(l));
  if (vLine) versionText = vLine.replace(/^.*QEMU emulator version /, '').trim();
  let version = versionText !== null ? parseVersion(versionText) : null;

  // the QMP session: greeting (version) and query-migrate-capabilities
  let capabilities: string[] | null = null;
  for (const line of ok(s, 'qemu-qmp') ?? []) {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isObj(msg)) continue;
    const greet = isObj(msg.QMP) && isObj(msg.QMP.version) && isObj(msg.QMP.version.qemu) ? msg.QMP.version.qemu : null;
    if (greet && version === null) {
      const [major, minor, micro] = [num(greet.major), num(greet.minor), num(greet.micro)];
      if (major !== null && minor !== null && micro !== null) version = { major, minor, patch: micro };
    }
    if (Array.isArray(msg.return) && msg.return.some((c) => isObj(c) && typeof c.capability === 'string')) {
      capabilities = msg.return.flatMap((c) => (isObj(c) && typeof c.capability === 'string' ? [c.capability] : []));
    }
  }

  const objects = new Set((ok(s, 'qemu-objects') ?? []).map((l) => l.trim()));
  const formatsOf = (lines: string[] | null) => {
    const l = lines?.find((x) => x.startsWith('Supported formats:'));
    return l ? l.slice('Supported formats:'.length).trim().split(/\s+/) : null;
  };
  const formats = new Set(formatsOf(ok(s, 'qemu-formats')) ?? formatsOf(ok(s, 'qemu-img-formats')) ?? []);
  const accelerators = (ok(s, 'qemu-accel') ?? []).map((l) => l.trim()).filter((l) => /^[a-z0-9_-]+$/.test(l));
  // asked over QMP when the probe ran; else inferred: x-colo appeared in QEMU 2.8
  const xColo =
    capabilities !== null ? capabilities.includes('x-colo') : version !== null && (version.major > 2 || (version.major === 2 && version.minor >= 8));

  return {
    version,
    versionText,
    coloPieces: {
      coloCompare: objects.has('colo-compare'),
      filterMirror: objects.has('filter-mirror'),
      filterRedirector: objects.has('filter-redirector'),
      filterRewriter: objects.has('filter-rewriter'),
      iothread: objects.has('iothread'),
      replication: formats.has('replication'),
      xColo,
    },
    accelerators,
  };
}

function parseDrbd(s: Map<string, Section>): DrbdFacts {
  const proc = ok(s, 'drbd-proc');
  const loadedVersion = proc?.map((l) => /^version:\s*(\d+\.\d+(?:\.\d+)?)/.exec(l)?.[1]).find((v) => v !== undefined) ?? null;
  const modinfo = firstLine(s, 'drbd-modinfo');
  const modinfoVersion = modinfo !== null ? (/^(\d+\.\d+(?:\.\d+)?)/.exec(modinfo)?.[1] ?? null) : null;
  const kv = new Map<string, string>();
  for (const l of ok(s, 'drbdadm-version') ?? []) {
    const m = /^([A-Z_]+)=(.*)$/.exec(l.trim());
    if (m) kv.set(m[1]!, m[2]!);
  }
  const utilsVersion = kv.get('DRBDADM_VERSION') ?? null;
  const adminKernel = kv.get('DRBD_KERNEL_VERSION');
  const adminKernelVersion = adminKernel && /^\d+\.\d+/.test(adminKernel) ? adminKernel : null;
  const kernelVersion = loadedVersion ?? adminKernelVersion ?? modinfoVersion;
  const major = kernelVersion !== null ? Number(kernelVersion.split('.')[0]) : null;
  return {
    kernelVersion,
    moduleLoaded: proc !== null,
    utilsVersion: utilsVersion !== null && /^\d+\.\d+/.test(utilsVersion) ? utilsVersion : null,
    apiMajor: major === 8 || major === 9 ? major : null,
  };
}

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

interface SysNet {
  speed: number | null;
  hasDevice: boolean;
}

function parseNetSysfs(s: Map<string, Section>): Map<string, SysNet> | null {
  const lines = ok(s, 'net-sysfs');
  if (!lines) return null;
  const out = new Map<string, SysNet>();
  for (const l of lines) {
    const parts = l.split('\t');
    if (parts.length < 4) continue;
    const [speed, , dev] = parts;
    const name = parts.slice(3).join('\t');
    const sp = num(speed);
    out.set(name, { speed: sp !== null && sp > 0 ? sp : null, hasDevice: dev === 'device' });
  }
  return out;
}

const kindOf = (linkType: string | null, infoKind: string | null, sys: SysNet | undefined, sysKnown: boolean, parentbus: string | null): NicKind => {
  if (linkType === 'loopback') return 'loopback';
  switch (infoKind) {
    case 'bridge':
    case 'veth':
    case 'bond':
    case 'vlan':
    case 'tun':
      return infoKind;
    case null:
      break;
    default:
      return 'virtual';
  }
  if (sys) return sys.hasDevice ? 'physical' : 'virtual';
  return !sysKnown || parentbus !== null ? 'physical' : 'virtual';
};

function parseNics(s: Map<string, Section>): NicFacts[] {
  const list = parseJson(ok(s, 'ip-addr'));
  if (!Array.isArray(list)) return [];
  const sysfs = parseNetSysfs(s);
  const out: NicFacts[] = [];
  for (const l of list) {
    if (!isObj(l)) continue;
    const name = str(l.ifname);
    if (name === null) continue;
    const flags = Array.isArray(l.flags) ? l.flags.filter((f): f is string => typeof f === 'string') : [];
    const linkinfo = isObj(l.linkinfo) ? l.linkinfo : null;
    const infoKind = linkinfo ? str(linkinfo.info_kind) : null;
    const sys = sysfs?.get(name);
    const addresses: string[] = [];
    for (const a of Array.isArray(l.addr_info) ? l.addr_info : []) {
      if (!isObj(a)) continue;
      const local = str(a.local);
      const prefix = num(a.prefixlen);
      if (local === null || prefix === null) continue;
      if (a.family === 'inet6' && (a.scope === 'link' || /^fe[89ab]/i.test(local))) continue;
      addresses.push(`${local}/${prefix}`);
    }
    out.push({
      name,
      mac: str(l.address),
      adminUp: flags.includes('UP'),
      carrier: flags.includes('LOWER_UP'),
      operstate: str(l.operstate),
      speedMbps: sys?.speed ?? null,
      mtu: num(l.mtu),
      addresses,
      master: str(l.master),
      kind: kindOf(str(l.link_type), infoKind, sys, sysfs !== null, str(l.parentbus)),
      linkKind: infoKind,
    });
  }
  return out;
}

function defaultRoute(s: Map<string, Section>, name: string): string | null {
  const routes = parseJson(ok(s, name));
  if (!Array.isArray(routes)) return null;
  let best: { dev: string; metric: number } | null = null;
  for (const r of routes) {
    if (!isObj(r) || r.dst !== 'default') continue;
    const dev = str(r.dev);
    if (dev === null) continue;
    const metric = num(r.metric) ?? 0;
    if (!best || metric < best.metric) best = { dev, metric };
  }
  return best?.dev ?? null;
}

interface RawBlock {
  name: string;
  kname: string;
  path: string;
  size: number;
  type: string;
  mountpoints: string[];
  fstype: string | null;
  pttype: string | null;
  ro: boolean;
  parents: Set<string>;
  children: Set<string>;
}

function parseDisks(s: Map<string, Section>): DiskFacts[] {
  const doc = parseJson(ok(s, 'lsblk'));
  const top = isObj(doc) && Array.isArray(doc.blockdevices) ? doc.blockdevices : [];
  const byK = new Map<string, RawBlock>();
  const walk = (node: unknown, parent: string | null) => {
    if (!isObj(node)) return;
    const name = str(node.name);
    if (name === null) return;
    const kname = str(node.kname) ?? name;
    const mps = Array.isArray(node.mountpoints) ? node.mountpoints : [node.mountpoint];
    const mountpoints = mps.filter((m): m is string => typeof m === 'string' && m !== '');
    let b = byK.get(kname);
    if (!b) {
      b = {
        name,
        kname,
        path: str(node.path) ?? `/dev/${name}`,
        size: num(node.size) ?? 0,
        type: str(node.type) ?? 'unknown',
        mountpoints,
        fstype: str(node.fstype) || null,
        pttype: str(node.pttype) || null,
        ro: bool(node.ro),
        parents: new Set(),
        children: new Set(),
      };
      byK.set(kname, b);
    }
    const pk = parent ?? str(node.pkname);
    if (pk) b.parents.add(pk);
    if (pk) byK.get(pk)?.children.add(kname);
    for (const c of Array.isArray(node.children) ? node.children : []) walk(c, kname);
  };
  for (const d of top) walk(d, null);

  const sysHolders = new Map<string, string[]>();
  for (const l of ok(s, 'block-holders') ?? []) {
    const [dev, holder] = l.split('\t');
    if (!dev || !holder) continue;
    sysHolders.set(dev, [...(sysHolders.get(dev) ?? []), holder]);
  }

  // blkid finds signatures lsblk may miss (no udev database, e.g. in containers)
  for (const block of (ok(s, 'blkid') ?? []).join('\n').split(/\n\s*\n/)) {
    const kv = new Map<string, string>();
    for (const l of block.split('\n')) {
      const i = l.indexOf('=');
      if (i > 0) kv.set(l.slice(0, i), l.slice(i + 1));
    }
    const dev = kv.get('DEVNAME');
    const b = dev ? [...byK.values()].find((x) => x.path === dev || `/dev/${x.kname}` === dev) : undefined;
    if (!b) continue;
    b.fstype ??= kv.get('TYPE') ?? null;
    b.pttype ??= kv.get('PTTYPE') ?? null;
  }

  // everything on the disk that holds /
  const rootTops = new Set<string>();
  const up = (k: string, seen: Set<string>) => {
    const b = byK.get(k);
    if (!b || seen.has(k)) return;
    seen.add(k);
    if (b.parents.size === 0) rootTops.add(k);
    for (const p of b.parents) up(p, seen);
  };
  for (const b of byK.values()) if (b.mountpoints.includes('/')) up(b.kname, new Set());
  const onRoot = new Set<string>();
  const down = (k: string) => {
    if (onRoot.has(k)) return;
    onRoot.add(k);
    for (const c of byK.get(k)?.children ?? []) down(c);
  };
  for (const k of rootTops) down(k);

  return [...byK.values()].map((b) => {
    const kids = [...b.children].map((c) => byK.get(c)).filter((c): c is RawBlock => c !== undefined);
    const holders = new Set([...kids.filter((c) => c.type !== 'part').map((c) => c.kname), ...(sysHolders.get(b.kname) ?? [])]);
    return {
      name: b.name,
      kname: b.kname,
      path: b.path,
      sizeBytes: b.size,
      type: b.type,
      mounted: b.mountpoints.length > 0,
      mountpoints: b.mountpoints,
      fstype: b.fstype,
      pttype: b.pttype,
      holders: [...holders],
      parents: [...b.parents],
      partitions: kids.filter((c) => c.type === 'part').map((c) => c.kname),
      readOnly: b.ro,
      onRootDisk: onRoot.has(b.kname),
    };
  });
}

/** Pure: `nft list ruleset` → input-hook chains that filter (rules or a drop policy). */
export function nftInputChains(ruleset: string): (NftChainRef & { rules: number; policy: string | null; iptablesManaged: boolean })[] {
  const out: (NftChainRef & { rules: number; policy: string | null; iptablesManaged: boolean })[] = [];
  let depth = 0;
  let warned = false;
  let table: { family: string; name: string; iptablesManaged: boolean } | null = null;
  let chain: (NftChainRef & { rules: number; policy: string | null; hook: string | null; iptablesManaged: boolean }) | null = null;
  for (const raw of ruleset.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) {
      if (/managed by iptables-nft/.test(line)) warned = true;
      continue;
    }
    const unquoted = line.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const opens = (unquoted.match(/\{/g) ?? []).length;
    const closes = (unquoted.match(/\}/g) ?? []).length;
    const t = /^table\s+(\S+)\s+(\S+)\s*\{/.exec(line);
    const c = /^chain\s+(\S+)\s*\{/.exec(line);
    if (depth === 0 && t) {
      table = { family: t[1]!, name: t[2]!, iptablesManaged: warned };
      warned = false;
    } else if (depth === 1 && c && table) {
      chain = { family: table.family, table: table.name, chain: c[1]!, rules: 0, policy: null, hook: null, iptablesManaged: table.iptablesManaged };
    } else if (depth === 2 && chain && line !== '' && line !== '}') {
      const hook = /\bhook\s+(\S+?);?(\s|$)/.exec(line);
      if (/^type\s/.test(line) && hook) {
        chain.hook = hook[1]!;
        chain.policy = /\bpolicy\s+(\w+)/.exec(line)?.[1] ?? null;
      } else if (/^policy\s/.test(line)) {
        chain.policy = /^policy\s+(\w+)/.exec(line)?.[1] ?? null;
      } else {
        chain.rules += 1;
      }
    }
    depth = Math.max(0, depth + opens - closes);
    if (chain && depth < 2) {
      if (chain.hook === 'input' && (chain.rules > 0 || chain.policy === 'drop'))
        out.push({
          family: chain.family,
          table: chain.table,
          chain: chain.chain,
          rules: chain.rules,
          policy: chain.policy,
          iptablesManaged: chain.iptablesManaged,
        });
      chain = null;
    }
    if (depth === 0) table = null;
  }
  return out;
}

function parseFirewall(s: Map<string, Section>): FirewallFacts {
  const nftSec = s.get('nft');
  const iptSec = s.get('iptables');
  const nft = ok(s, 'nft');
  const ipt = ok(s, 'iptables');
  const nftText = nft?.join('\n') ?? '';
  const iptText = ipt?.join('\n') ?? '';
  const chains = nftInputChains(nftText).filter((c) => !c.iptablesManaged && ['inet', 'ip', 'ip6'].includes(c.family));
  if (chains.length > 0) {
    const ch = chains.find((c) => c.family === 'inet') ?? chains[0]!;
    return { kind: 'nftables', rulesText: nftText, nftInputChain: { family: ch.family, table: ch.table, chain: ch.chain } };
  }
  if (ipt && ipt.some((l) => /^-A INPUT\s/.test(l) || /^-P INPUT (DROP|REJECT)\b/.test(l)))
    return { kind: 'iptables', rulesText: iptText, nftInputChain: null };
  const nftAbsent = !nftSec || nftSec.missing;
  const iptAbsent = !iptSec || iptSec.missing;
  if (nft === null && ipt === null && !(nftAbsent && iptAbsent)) return { kind: 'unknown', rulesText: '', nftInputChain: null };
  return { kind: 'none', rulesText: '', nftInputChain: null };
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
  };
}
