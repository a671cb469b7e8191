import { randomUUID } from 'node:crypto';
import type { AppEvent, EventRecord, Level } from '../contract/index.js';
import type { EventsRepo } from '../store/events-repo.js';

type Listener = (e: AppEvent) => void;

/**
 * In-process event bus. Log lines are also written to the store, so a CLI running
 * next to the app shows up in the app's event log (see `tailOthers`).
 */
export class EventBus {
  readonly origin = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly listeners = new Set<Listener>();
  private tailId: number;

  constructor(private readonly events: EventsRepo) {
    this.tailId = events.lastId();
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: AppEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a broken listener never breaks the core
      }
    }
  }

  log(level: Level, source: string, message: string, extra: { host?: string; data?: Record<string, unknown> } = {}): EventRecord {
    const record = this.events.insert({ at: Date.now(), level, source, message, ...extra }, this.origin);
    this.emit({ type: 'event-logged', record });
    return record;
  }

  /** Re-emit events that other processes wrote since the last call. */
  tailOthers(): number {
    const rows = this.events.fromOthers(this.tailId, this.origin);
    for (const record of rows) this.emit({ type: 'event-logged', record });
    this.tailId = Math.max(this.tailId, this.events.lastId());
    return rows.length;
  }
}
