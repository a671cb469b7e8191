import type { ErrorDTO } from './errors.js';

/** Every request returns this envelope; exceptions never cross a door. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorDTO };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (error: ErrorDTO): Result<never> => ({ ok: false, error });
