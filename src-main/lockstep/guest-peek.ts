import { LockstepError } from '../contract/index.js';
import { getCounter } from '../hosts/guest-client.js';

export interface GuestPeek {
  count: number;
  boot: string;
  host: string;
  ms: number;
  address: string;
}

/** One GET of the demo guest's counter from this machine (the desktop is on the guests' public network). */
export async function peekGuest(address: string, timeoutMs = 1500): Promise<GuestPeek> {
  const t0 = Date.now();
  const a = await getCounter(address, { timeoutMs });
  if (!a.ok)
    throw new LockstepError({
      code: 'guest-unreachable',
      message: `The guest at ${address} does not answer (${a.error}).`,
      fix: 'Check the pair on the Dashboard.',
    });
  return { count: a.count, boot: a.boot, host: a.host, ms: Date.now() - t0, address };
}
