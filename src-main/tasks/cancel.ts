import { LockstepError } from '../contract/index.js';

export function throwIfCancelled(signal: AbortSignal, step?: string): void {
  if (signal.aborted) throw cancelledError(step);
}

export function cancelledError(step?: string): LockstepError {
  return new LockstepError({ code: 'cancelled', message: 'Cancelled by the user.', step, fix: 'Run the same command again to continue from this step.' });
}

/** setTimeout as a promise that rejects when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(cancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
