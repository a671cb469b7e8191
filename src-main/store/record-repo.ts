import type { z } from 'zod';
import { LockstepError } from '../contract/index.js';
import type { KeyValueRepo } from './kv-repo.js';

/**
 * One module's record in the store, validated on every read: a record written by an older
 * version or edited by hand is an error naming the key, never a cast that breaks later.
 */
export class RecordRepo<T> {
  constructor(
    private readonly kv: KeyValueRepo,
    readonly key: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  get(): T | undefined {
    const raw = this.kv.get<unknown>(this.key);
    if (raw === undefined) return undefined;
    const r = this.schema.safeParse(raw);
    if (!r.success)
      throw new LockstepError({
        code: 'store-record-invalid',
        message: `The app's stored ${this.key} record is not valid: ${r.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
          .join('; ')}.`,
        fix: `Forget it and set it up again (the hosts keep running): lockstep ${this.key === 'pair' ? 'lockstep stop' : `${this.key} remove`}`,
        details: { key: this.key },
      });
    return r.data;
  }

  set(value: T): void {
    this.kv.set(this.key, value);
  }

  delete(): void {
    this.kv.delete(this.key);
  }
}
