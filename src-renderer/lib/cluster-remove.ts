import type { ErrorDTO } from '../../src-main/contract/index.js';
import type { ConfirmRequest } from './confirm.svelte.js';
import { inWindowWords } from './window-words.js';

/** The label of `cluster remove --keep-guest` in the window. */
export const KEEP_GUEST_LABEL = 'Keep the guest running';

/** sentences that say what stays as it is, rather than what goes */
const KEEPS = /\b(stays up|is left running)\b/;

/**
 * Pure: the question `cluster.remove` asks, from its `confirm-needed` refusal. The app's own words
 * (its message names what stops and what is deleted) are the list; what it leaves as it is (DRBD,
 * a guest kept running) is said apart, so the list holds only what goes.
 */
export function removeRequest(refusal: ErrorDTO, cluster: string, nodes: string[], keepGuest: boolean): ConfirmRequest {
  const sentences = refusal.message
    .split(/(?<=\.)\s+(?=[A-Z])/)
    .map((s) => inWindowWords(s.trim(), { keepGuest: KEEP_GUEST_LABEL }))
    .filter((s) => s.length > 0);
  const keeps = sentences.filter((s) => KEEPS.test(s));
  return {
    title: `Remove the cluster ${cluster}${nodes.length ? ` from ${nodes.join(' and ')}` : ''}?`,
    destroys: sentences.filter((s) => !KEEPS.test(s)),
    ...(keeps.length ? { keeps } : {}),
    confirmLabel: keepGuest ? 'Remove the cluster, keep the guest running' : 'Remove the cluster',
  };
}

/** The name `cluster.remove` wants confirmed: the one its refusal's fix names (`--confirm NAME`), else the cluster's. */
export function confirmName(refusal: ErrorDTO, cluster: string): string {
  return /--confirm\s+([A-Za-z0-9_.-]+)/.exec(refusal.fix ?? '')?.[1] ?? cluster;
}
