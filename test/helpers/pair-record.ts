import type { PairRecord } from '../../src-main/lockstep/pair-record.js';

/** A pair in lockstep after a failover and re-protect: the primary still runs the QEMU started as the secondary. */
export const reprotectedPair: PairRecord = {
  state: 'lockstep',
  primary: '198.18.77.12:22',
  secondary: '198.18.77.11:22',
  accel: 'tcg',
  qemuMajor: 7,
  xa: '10.99.0.2',
  xb: '10.99.0.1',
  guestAddress: '198.18.77.50',
  guestCidr: '198.18.77.50/24',
  since: 1,
  diskSync: 'full-copy',
  primaryVm: 'secondary',
};
