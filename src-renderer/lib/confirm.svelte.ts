/** One question at a time, asked in the page (never window.confirm): what will be destroyed, and the button that does it. */
export interface ConfirmRequest {
  title: string;
  /** what the action destroys, named (hosts, VMs, devices) */
  destroys: string[];
  /** what the action leaves as it is (said beside what it destroys, so the user knows what stays) */
  keeps?: string[];
  /** the button that acts, e.g. "Remove the lab" */
  confirmLabel: string;
  /** set when the action would break protection now: the dialog offers the safe order instead of acting */
  refusal?: { why: string; safeOrder: string[]; safeLabel?: string; onSafe?: () => void | Promise<void> };
}

class ConfirmQueue {
  current = $state<ConfirmRequest | null>(null);
  private resolve: ((ok: boolean) => void) | null = null;

  /** resolves true when the user confirmed, false on Cancel, Esc or a refusal */
  ask(req: ConfirmRequest): Promise<boolean> {
    this.resolve?.(false);
    this.current = req;
    return new Promise((res) => (this.resolve = res));
  }

  answer(ok: boolean): void {
    const r = this.resolve;
    this.resolve = null;
    this.current = null;
    r?.(ok);
  }
}

export const confirmer = new ConfirmQueue();
