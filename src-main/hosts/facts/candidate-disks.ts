import type { DiskFacts, HostFacts } from './facts.js';

/** DRBD backing-disk candidates: a block device nothing uses and nothing is written on. */
export function candidateDisks(facts: HostFacts, minBytes = 1): DiskFacts[] {
  return facts.disks.filter(
    (d) =>
      (['disk', 'part', 'lvm', 'loop', 'crypt'].includes(d.type) || d.type.startsWith('raid')) &&
      !/^(zram|ram|drbd|nbd|sr|fd)\d/.test(d.kname) &&
      !(d.onRootDisk && (d.type === 'disk' || d.type === 'part')) &&
      !d.mounted &&
      d.holders.length === 0 &&
      d.partitions.length === 0 &&
      d.fstype === null &&
      d.pttype === null &&
      !d.readOnly &&
      d.sizeBytes >= Math.max(1, minBytes),
  );
}
