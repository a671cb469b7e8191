import type { Core } from './core.js';

/** Every plan kind the app knows, so an interrupted plan can be resumed by any door. */
export function registerPlanKinds(core: Core): void {
  void core;
}
