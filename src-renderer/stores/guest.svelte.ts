import type { ErrorDTO } from '../../src-main/contract/index.js';
import { api } from '../api.js';
import { confirmer } from '../lib/confirm.svelte.js';
import { stopGuestRequest } from '../lib/guards.js';
import { hosts } from './hosts.svelte.js';
import { pairState } from './pair.svelte.js';

/** Stop and start the protected guest from the window (stop asks first). */
class Guest {
  busy = $state<'stopping' | 'starting' | null>(null);
  error = $state<ErrorDTO | null>(null);

  /** asks, then stops both VMs; `asked` skips the question when the user already answered one naming them */
  async stop(asked = false): Promise<boolean> {
    if (!asked && !(await confirmer.ask(stopGuestRequest(pairState.pair)))) return false;
    this.busy = 'stopping';
    this.error = null;
    const r = await api.call('lockstep.stop', {});
    this.busy = null;
    if (!r.ok) this.error = r.error;
    await pairState.refresh();
    return r.ok;
  }

  /** starts the guest protected again on the first two hosts (what Setup → Protect does) */
  async start(): Promise<void> {
    const [a, b] = hosts.list;
    if (!a || !b) return;
    this.busy = 'starting';
    this.error = null;
    const r = await api.call('lockstep.protect', { a: a.hostId, b: b.hostId });
    this.busy = null;
    if (!r.ok) this.error = r.error;
    await pairState.refresh();
  }
}

export const guest = new Guest();
