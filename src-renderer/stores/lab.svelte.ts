import type { ErrorDTO, LabStatus } from '../../src-main/contract/index.js';
import { api } from '../api.js';

/** The virtual lab's state, refreshed on `lab-changed`. */
class Lab {
  status = $state<LabStatus | null>(null);
  busy = $state<'up' | 'down' | null>(null);
  error = $state<ErrorDTO | null>(null);
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    api.onEvent((e) => {
      if (e.type === 'lab-changed') this.status = e.status;
    });
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const r = await api.call('lab.status', {});
    if (r.ok) this.status = r.value;
  }

  async up(kernel = false): Promise<void> {
    this.busy = 'up';
    this.error = null;
    const r = await api.call('lab.up', { kernel });
    this.busy = null;
    if (r.ok) this.status = r.value;
    else this.error = r.error;
    await this.refresh();
  }

  async down(): Promise<void> {
    this.busy = 'down';
    this.error = null;
    const r = await api.call('lab.down', {});
    this.busy = null;
    if (r.ok) this.status = r.value;
    else this.error = r.error;
    await this.refresh();
  }
}

export const lab = new Lab();
