import type { PairStatus } from '../../src-main/contract/index.js';

/** A VM side of the lab pair as the status reports it. */
export const side = (name: string, colo: 'primary' | 'secondary' | 'none') => ({ host: `198.18.77.${name === 'hostA' ? 11 : 12}:22`, name, colo });

/** The pair in lockstep: primary on hostA, secondary on hostB. */
export const lockstep: Extract<PairStatus, { state: 'lockstep' }> = {
  state: 'lockstep',
  primary: side('hostA', 'primary'),
  secondary: side('hostB', 'secondary'),
  since: 0,
  checkpoints: 10,
  checkpointsPerSecond: 0.5,
  checkpointPauseMsP50: 50,
  lastCheckpointAt: null,
  diskSync: 'full-copy',
  guestAddress: '198.18.77.50',
};
