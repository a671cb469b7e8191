/**
 * Pure: the one way a command line for a host is made. The program must be in the inventory
 * (./inventory.ts) or be one of the app's own files; it is started through `/usr/bin/env`, so the
 * host's login shell never picks a built-in applet of its own (busybox ash runs its own `ip` and
 * `ping` before PATH, and those lack `ip -j` and `ping -M do`); every argument is quoted by
 * shellCommand.
 */
import { LockstepError } from '../contract/index.js';
import { isListedProgram } from './inventory.js';
import { shellCommand } from './shell-quote.js';

/** Absolute, so no shell looks it up: it runs the program found on PATH. */
export const ENV = '/usr/bin/env';

/** argv as it runs on the host: checked against the inventory, started through env. */
export function hostArgv(argv: readonly (string | number)[]): (string | number)[] {
  const program = String(argv[0] ?? '');
  if (!isListedProgram(program))
    throw new LockstepError({
      code: 'host-program-unlisted',
      message: `Refusing to run ${JSON.stringify(program.slice(0, 60))} on a host: it is not in the inventory of host programs.`,
      fix: 'Add the program to src-main/hosts/inventory.ts (what it is for and its package per distribution), so the preflight checks it on every host.',
    });
  return program.includes('/') ? [...argv] : [ENV, ...argv];
}

/** The command line sent over SSH (through `sudo -n` for a non-root user). */
export function hostCommandLine(argv: readonly (string | number)[], sudo = false): string {
  const a = hostArgv(argv);
  return shellCommand(sudo ? ['sudo', '-n', '--', ...a] : a);
}
