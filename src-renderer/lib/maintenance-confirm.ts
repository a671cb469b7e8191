import type { PairStatus } from '../../src-main/contract/index.js';
import type { ConfirmRequest } from './confirm.svelte.js';

/** The pair's two hosts with what each runs (empty unless the guest runs in lockstep). */
export function maintenanceHosts(pair: PairStatus | null): { name: string; role: 'primary' | 'secondary'; other: string }[] {
  if (pair?.state !== 'lockstep') return [];
  return [
    { name: pair.primary.name, role: 'primary', other: pair.secondary.name },
    { name: pair.secondary.name, role: 'secondary', other: pair.primary.name },
  ];
}

/** What the Maintenance button does, in one line (shown beside the button, before anyone clicks). */
export function maintenanceDoes(h: { name: string; role: 'primary' | 'secondary'; other: string }): string {
  return h.role === 'primary'
    ? `Moves the guest to ${h.other} (a planned switchover, TCP kept), stops ${h.name}'s VM and holds the host agents: then ${h.name} can be rebooted.`
    : `Stops the secondary VM on ${h.name} and holds the host agents; the guest keeps running on ${h.other}: then ${h.name} can be rebooted.`;
}

/** Enter maintenance: names the host, the VM stopped and the protection given up, asked once. */
export function enterMaintenanceRequest(h: { name: string; role: 'primary' | 'secondary'; other: string }): ConfirmRequest {
  return {
    title: `Put ${h.name} in maintenance?`,
    destroys: [
      h.role === 'primary'
        ? `the primary VM on ${h.name}: the guest moves to ${h.other} first (clients see a pause of about a second)`
        : `the secondary VM on ${h.name} (quit, then SIGTERM, then SIGKILL)`,
      `protection: until ${h.name} is back and maintenance ends, the guest runs alone on ${h.other}; if ${h.other} fails, the guest stops`,
      'automatic failover: the host agents are held (no failover, no alarm) until maintenance ends',
    ],
    confirmLabel: `Put ${h.name} in maintenance`,
  };
}

/** Exit with failback: the second planned switchover, named. */
export function failbackRequest(host: string, survivor: string): ConfirmRequest {
  return {
    title: `End maintenance and move the guest back to ${host}?`,
    destroys: [
      `a second planned switchover: after re-protect, the primary VM on ${survivor} is stopped and ${host} takes over (clients see a pause of about a second)`,
      `a second full disk copy, to ${survivor}, while the guest runs on ${host} unprotected`,
    ],
    confirmLabel: 'Re-protect and fail back',
  };
}
