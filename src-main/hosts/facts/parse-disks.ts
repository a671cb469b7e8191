/** Pure: the block-device sections (lsblk, /sys holders, blkid) → DiskFacts. */
import type { DiskFacts } from './facts.js';
import { bool, isObj, num, ok, parseJson, str, type Section } from './parse-sections.js';

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

export function parseDisks(s: Map<string, Section>): DiskFacts[] {
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
