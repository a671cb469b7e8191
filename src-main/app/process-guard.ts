/**
 * The process-level guard every door installs: a promise that rejects with nobody awaiting it, or an
 * exception thrown from a timer or a socket callback, is reported (as an event, through `report`)
 * instead of ending the process mid-plan. Node's default for both is to print a stack trace and exit.
 */
import { toErrorDTO, type ErrorDTO } from '../contract/index.js';

export type StrayKind = 'unhandled-rejection' | 'uncaught-exception';

export interface Stray {
  kind: StrayKind;
  error: ErrorDTO;
}

/** The error a stray becomes: a sentence, what it was, and what to do (never a stack trace). */
export function strayError(kind: StrayKind, err: unknown): ErrorDTO {
  const dto = toErrorDTO(err);
  const what = kind === 'unhandled-rejection' ? 'A background task failed with nobody waiting for it' : 'An unexpected error was thrown outside any command';
  return {
    code: 'internal-stray',
    message: `${what}: ${dto.message.split('\n')[0]!.slice(0, 300)}`,
    cause: [dto.code !== 'internal' ? dto.code : '', dto.cause ?? ''].filter(Boolean).join(': ').slice(0, 300) || undefined,
    fix: 'Nothing was stopped because of it. Check the state with `lockstep link status` / `lockstep mirror status`, run the command again if it did not finish, and report this event (`lockstep events list`) as a bug.',
  };
}

/** Installs the handlers (once per process for each `report`); returns a function that removes them. */
export function installProcessGuard(report: (s: Stray) => void): () => void {
  const handle = (kind: StrayKind) => (err: unknown) => {
    try {
      report({ kind, error: strayError(kind, err) });
    } catch {
      // the reporter itself failed (the store is closed): the process still lives
    }
  };
  const onRejection = handle('unhandled-rejection');
  const onException = handle('uncaught-exception');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}

/**
 * Test hook (like virt-manager's --test-options): `LOCKSTEP_TEST_FAULTS=stray` makes a long-lived
 * door throw one late rejection and one uncaught exception shortly after it started, so a test sees
 * the door keep serving. Unset in normal use: does nothing.
 */
export function injectTestFaults(env: NodeJS.ProcessEnv = process.env): void {
  if (!(env.LOCKSTEP_TEST_FAULTS ?? '').split(',').includes('stray')) return;
  setTimeout(() => void Promise.reject(new Error('injected late rejection (LOCKSTEP_TEST_FAULTS=stray)')), 200).unref();
  setTimeout(() => {
    throw new Error('injected uncaught exception (LOCKSTEP_TEST_FAULTS=stray)');
  }, 400).unref();
}
