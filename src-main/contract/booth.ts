import { z } from 'zod';
import type { ErrorDTO } from './errors.js';

/** Booth mode's "drill and re-protect every N minutes": the field's bounds, shared by the window and the core. */
export const BOOTH_LOOP_MIN_MINUTES = 1;
export const BOOTH_LOOP_MAX_MINUTES = 120;

export const BoothLoopMinutes = z
  .number()
  .finite()
  .min(BOOTH_LOOP_MIN_MINUTES, `at least ${BOOTH_LOOP_MIN_MINUTES} minute`)
  .max(BOOTH_LOOP_MAX_MINUTES, `at most ${BOOTH_LOOP_MAX_MINUTES} minutes`)
  .refine((n) => Number.isInteger(n), 'whole minutes');

/**
 * Reads what the user typed in the interval field (a string or a number) and says whether a loop may
 * start with it; the error names the field. Nothing starts from a value this refuses.
 */
export function boothLoopInterval(raw: unknown): { ok: true; minutes: number; ms: number } | { ok: false; error: ErrorDTO } {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : Number.NaN;
  const parsed = BoothLoopMinutes.safeParse(n);
  if (parsed.success) return { ok: true, minutes: parsed.data, ms: parsed.data * 60_000 };
  return {
    ok: false,
    error: {
      code: 'bad-booth-interval',
      message: `"Drill every … minutes" must be a whole number from ${BOOTH_LOOP_MIN_MINUTES} to ${BOOTH_LOOP_MAX_MINUTES} (${Number.isNaN(n) ? 'it is empty or not a number' : `${String(n)} is ${parsed.error.issues[0]?.message ?? 'out of range'}`}).`,
      fix: `Type a number of minutes from ${BOOTH_LOOP_MIN_MINUTES} to ${BOOTH_LOOP_MAX_MINUTES}, then Start the loop.`,
    },
  };
}

/** The guest's counter as a visitor reads it (one HTTP GET, no SSH). */
export interface GuestPeekDTO {
  count: number;
  /** the guest's boot id: a new one means the guest restarted */
  boot: string;
  /** which host's VM answered */
  host: string;
  ms: number;
  address: string;
}

/** How long one `guest.watch` keeps the core pushing `guest-peeked` (a booth window renews it well before). */
export const GUEST_WATCH_SECONDS = 25;
