/**
 * The ONE function through which every argument reaches a remote shell.
 * Arguments are single-quoted (POSIX), so nothing inside them is interpreted;
 * NUL bytes and newlines in arguments are refused outright.
 */
import { LockstepError } from '../contract/index.js';

const safe = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quoteArg(arg: string | number): string {
  const s = String(arg);
  if (s.includes('\0') || s.includes('\n') || s.includes('\r')) {
    throw new LockstepError({
      code: 'bad-argument',
      message: `Refusing an argument with a control character: ${JSON.stringify(s.slice(0, 40))}.`,
      fix: 'Remove newlines and NUL bytes from names and paths.',
    });
  }
  if (s !== '' && safe.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** argv → one shell command line. The program name is quoted like any argument. */
export function shellCommand(argv: readonly (string | number)[]): string {
  if (argv.length === 0) throw new LockstepError({ code: 'bad-argument', message: 'Empty command.' });
  return argv.map(quoteArg).join(' ');
}

/** Several argv commands joined with `&&` (one round trip). */
export function shellAnd(commands: readonly (readonly (string | number)[])[]): string {
  return commands.map(shellCommand).join(' && ');
}
