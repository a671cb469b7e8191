import type { ErrorDTO, LastPreflight } from '../../src-main/contract/index.js';
import { api } from '../api.js';

/** The last preflight (kept by the core, so it survives a restart) and the one running now. */
class Preflight {
  last = $state<LastPreflight | null>(null);
  loaded = $state(false);
  busy = $state(false);
  error = $state<ErrorDTO | null>(null);

  async load(): Promise<void> {
    const r = await api.call('preflight.last', {});
    if (r.ok) this.last = r.value;
    this.loaded = true;
  }

  async run(a: string, b: string): Promise<void> {
    this.busy = true;
    this.error = null;
    const r = await api.call('preflight.run', { a, b });
    this.busy = false;
    if (r.ok) this.last = { at: Date.now(), refs: [a, b], report: r.value };
    else this.error = r.error;
  }
}

export const preflight = new Preflight();
