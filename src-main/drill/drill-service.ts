import type { DrillMode, DrillReport } from '../contract/lockstep.js';
import type { DrillContext } from './drill-context.js';
import type { Store } from '../store/store.js';
import { runDrill } from './drill-runner.js';
import { DrillsRepo } from './drills-repo.js';

/** Drills: pull the plug on the protected pair, let the host agents act, measure, keep the reports. */
export class DrillService {
  private readonly drills: DrillsRepo;

  constructor(private readonly deps: { store: Store; context: DrillContext }) {
    this.drills = new DrillsRepo(deps.store.db);
  }

  run(i: { mode: DrillMode; seconds?: number }): Promise<DrillReport> {
    return runDrill(this.deps.context, this.drills, i.mode, i.seconds);
  }

  list(): DrillReport[] {
    return this.drills.list();
  }
}
