import type { z } from 'zod';
import { LockstepError } from '../contract/index.js';
import type { KeyValueRepo } from './kv-repo.js';

export interface RecordOptions {
  /** what sets the record up again once the broken one is forgotten, e.g. `lockstep link setup A B` */
  redo?: string;
  /** `redo` writes the record without reading it first: running it again is the whole fix */
  overwrites?: boolean;
}

/**
 * One module's record in the store, validated on every read: a record written by an older
 * version or edited by hand is an error naming the key, the fields and how to forget it, never a
 * cast that breaks later, deep inside a step.
 */
export class RecordRepo<T> {
  constructor(
    private readonly kv: KeyValueRepo,
    readonly key: string,
    private readonly schema: z.ZodType<T>,
    private readonly options: RecordOptions = {},
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
        fix: this.options.overwrites
          ? `Run it again (it replaces the record): ${this.options.redo}`
          : this.options.redo
            ? `Forget the record (the hosts keep running): sqlite3 '${this.kv.file}' "DELETE FROM kv WHERE key = '${this.key}'", then: ${this.options.redo}`
            : `Forget it and set it up again (the hosts keep running): lockstep ${this.key === 'pair' ? 'lockstep stop' : `${this.key} remove`}`,
        details: { key: this.key },
      });
    // the record as stored, now known to match the schema (zod's copy would drop fields the schema
    // does not name: a newer version's additions survive a read-modify-write by this one)
    return raw as T;
  }

  set(value: T): void {
    this.kv.set(this.key, value);
  }

  delete(): void {
    this.kv.delete(this.key);
  }
}
