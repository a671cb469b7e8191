import type { ErrorDTO, Result } from '../../src-main/contract/index.js';

/** One button's command: busy while it runs, the error (with its fix) or the value after. */
export class Action<T> {
  busy = $state(false);
  error = $state<ErrorDTO | null>(null);
  value = $state<T | null>(null);

  constructor(
    private readonly call: () => Promise<Result<T>>,
    private readonly after?: () => Promise<void>,
  ) {}

  async run(): Promise<void> {
    this.busy = true;
    this.error = null;
    const r = await this.call();
    this.busy = false;
    if (r.ok) this.value = r.value;
    else this.error = r.error;
    await this.after?.();
  }
}
