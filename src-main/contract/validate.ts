import { z } from 'zod';
import { commands, isCommandName, type CommandName, type ParsedInput } from './commands.js';
import type { ErrorDTO } from './errors.js';

export type Validated = { ok: true; name: CommandName; input: ParsedInput<CommandName> } | { ok: false; error: ErrorDTO };

/** Validates an untrusted request from any door. Never throws. */
export function validateRequest(name: unknown, input: unknown): Validated {
  if (!isCommandName(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 60)) : name === undefined ? '(the request names none in "cmd")' : typeof name;
    return {
      ok: false,
      error: {
        code: 'unknown-command',
        message: `Unknown command ${shown}.`,
        fix: `Use one of: ${Object.keys(commands).join(', ')}`,
      },
    };
  }
  const parsed = commands[name].input.safeParse(input ?? {});
  if (!parsed.success) {
    return { ok: false, error: describeZodError(name, parsed.error) };
  }
  return { ok: true, name, input: parsed.data as ParsedInput<CommandName> };
}

function describeZodError(name: string, err: z.ZodError): ErrorDTO {
  const first = err.issues[0];
  const where = first && first.path.length ? first.path.join('.') : 'request';
  const what = first ? first.message : 'invalid';
  return {
    code: 'bad-request',
    message: `Invalid ${where} for ${name}: ${what}.`,
    cause: err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    fix: `See \`lockstep ${name.replace('.', ' ').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} --help\` for the accepted values.`,
  };
}
