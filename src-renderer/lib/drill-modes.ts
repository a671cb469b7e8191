import type { DrillMode } from '../../src-main/contract/index.js';

/** What each drill does and what should happen: shown before it runs. */
export const drillModes: { mode: DrillMode; title: string; does: string; expect: string }[] = [
  {
    mode: 'kill-primary-vm',
    title: 'Kill the primary VM',
    does: 'kill -9 of QEMU on the primary host.',
    expect: 'The secondary takes over (its host agent acts, as at 3 am); clients keep their TCP session; the counter never goes back.',
  },
  {
    mode: 'power-off-host',
    title: 'Power off the primary host',
    does: 'Every process of the primary host is killed and its links go down (virtual lab); sysrq o on a real host.',
    expect: 'The secondary takes over, as above.',
  },
  {
    mode: 'cut-public-link',
    title: 'Cut the primary’s public link',
    does: 'The primary host’s public NIC goes down (virtual lab): clients cannot reach it, the crossover still works.',
    expect:
      'The secondary takes over (its host agent acts once the isolated primary is fenced: powered off), never two primaries; clients keep their TCP session.',
  },
  {
    mode: 'cut-crossover',
    title: 'Cut the crossover cable',
    does: 'The replication NIC goes down on one side.',
    expect: 'No failover and never two primaries: the primary keeps serving, unprotected (its host agent continues alone).',
  },
  {
    mode: 'kill-secondary',
    title: 'Kill the secondary VM',
    does: 'kill -9 of QEMU on the secondary host.',
    expect: 'The primary continues alone (its host agent acts); clients see at most a short pause.',
  },
];
