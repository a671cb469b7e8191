import type { DrillMode, PairStatus } from '../../src-main/contract/index.js';
import type { ConfirmRequest } from './confirm.svelte.js';

/** Pull the plug: what this drill destroys on which host, asked before it runs. */
export function drillRequest(mode: DrillMode, title: string, pair: PairStatus | null): ConfirmRequest {
  const p = pair?.state === 'lockstep' ? pair : null;
  const primary = p ? p.primary.name : 'the primary host';
  const secondary = p ? p.secondary.name : 'the secondary host';
  const destroys: Record<DrillMode, string[]> = {
    'kill-primary-vm': [
      `the primary VM on ${primary} (kill -9 of its QEMU)`,
      `protection: afterwards the guest runs alone on ${secondary} until you re-protect`,
    ],
    'power-off-host': [
      `every process on ${primary}, whose links go down (the host is powered off)`,
      `protection: the guest runs alone on ${secondary} until you re-protect`,
    ],
    'cut-public-link': [
      `${primary}'s public link; then ${primary} is fenced (powered off)`,
      `protection: the guest runs alone on ${secondary} until you re-protect`,
    ],
    'cut-crossover': [
      `the crossover cable on ${primary} (restored after), and the secondary VM on ${secondary}`,
      'protection: the primary continues alone until you re-protect',
    ],
    'kill-secondary': [`the secondary VM on ${secondary} (kill -9 of its QEMU)`, `protection: the primary on ${primary} continues alone until you re-protect`],
  };
  return { title: `Pull the plug: ${title}?`, destroys: destroys[mode], confirmLabel: 'Pull the plug' };
}
