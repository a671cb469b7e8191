import type { ClusterStatusDTO, ErrorDTO } from '../../src-main/contract/index.js';
import { api } from '../api.js';

/** How often the Cluster view reads crm_mon while it is open. */
export const CLUSTER_POLL_MS = 5000;

/**
 * The Mirror tier's cluster as `cluster.status` reads it (crm_mon over SSH). The core has no
 * cluster watcher pushing events yet, so the open Cluster view reads it every few seconds, and at
 * once when a cluster plan ends or the cluster logs an event; nothing reads it while the view is closed.
 */
class ClusterState {
  status = $state<ClusterStatusDTO | null>(null);
  /** the last read failed (the previous status stays shown) */
  error = $state<ErrorDTO | null>(null);
  readAt = $state<number | null>(null);
  private pending: Promise<void> | null = null;

  /** Reads once; a read already under way is shared (a slow crm_mon never piles up reads). */
  refresh(): Promise<void> {
    this.pending ??= (async () => {
      try {
        const r = await api.call('cluster.status', {});
        if (r.ok) {
          this.status = r.value;
          this.error = null;
        } else this.error = r.error;
        this.readAt = Date.now();
      } finally {
        this.pending = null;
      }
    })();
    return this.pending;
  }

  /** Reads now and every `ms` until the returned function is called. */
  watch(ms = CLUSTER_POLL_MS): () => void {
    void this.refresh();
    const timer = setInterval(() => void this.refresh(), ms);
    const off = api.onEvent((e) => {
      const planEnded = e.type === 'task-updated' && e.plan.kind.startsWith('cluster.') && e.plan.state !== 'running';
      if (planEnded || (e.type === 'event-logged' && e.record.source === 'cluster')) void this.refresh();
    });
    return () => {
      clearInterval(timer);
      off();
    };
  }
}

export const cluster = new ClusterState();
