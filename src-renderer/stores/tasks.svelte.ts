import type { PlanDTO } from '../../src-main/contract/index.js';
import { api } from '../api.js';

/** Plans and their live progress, fed by `task-updated`. */
class Tasks {
  byId = $state<Record<string, PlanDTO>>({});
  private started = false;

  get list(): PlanDTO[] {
    return Object.values(this.byId).sort((a, b) => b.createdAt - a.createdAt);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    api.onEvent((e) => {
      if (e.type === 'task-updated') this.byId[e.plan.id] = e.plan;
    });
    void api.call('tasks.list', {}).then((r) => {
      if (r.ok) for (const p of r.value) this.byId[p.id] ??= p;
    });
  }
}

export const tasks = new Tasks();
