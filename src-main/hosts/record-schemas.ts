/** zod pieces the capabilities' record schemas share: the two sides of a pair, a planned host command. */
import { z } from 'zod';
import type { HostCommand, Side } from './command.js';

export const sideSchema: z.ZodType<Side> = z.enum(['A', 'B']);

/** one value per side of the pair */
export const bySide = <T>(v: z.ZodType<T>) => z.object({ A: v, B: v });

export const hostCommandSchema: z.ZodType<HostCommand> = z.object({
  side: sideSchema,
  argv: z.array(z.string()),
  why: z.string(),
  tolerate: z.string().optional(),
  stdin: z.string().optional(),
});

/**
 * A nested value a record keeps as the host reported it (a NIC survey, a persistence plan): checked
 * to be an object, its fields read by the code that made it.
 */
export const hostReport = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: `expected ${what} (an object)` });
