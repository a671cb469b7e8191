import type { EventRecord } from '../../src-main/contract/index.js';
import { api } from '../api.js';

const MAX = 2000;

/** The live event log: loaded from the store, then fed by `event-logged` events. */
class EventLog {
  items = $state<EventRecord[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    api.onEvent((e) => {
      if (e.type !== 'event-logged') return;
      if (this.items.some((x) => x.id === e.record.id)) return;
      this.items.push(e.record);
      if (this.items.length > MAX) this.items.splice(0, this.items.length - MAX);
    });
    void this.reload();
  }

  async reload(): Promise<void> {
    const r = await api.call('events.list', { limit: 500 });
    if (r.ok) {
      const known = new Set(r.value.map((x) => x.id));
      this.items = [...r.value, ...this.items.filter((x) => !known.has(x.id) && x.id > (r.value.at(-1)?.id ?? 0))];
      this.loaded = true;
      this.error = null;
    } else this.error = r.error.message;
  }
}

export const eventLog = new EventLog();
