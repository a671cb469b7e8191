import { describe, expectTypeOf, it } from 'vitest';
import type { CommandName, Output, Outputs, Result, commands } from '../../src-main/contract/index.js';
import type { Handlers } from '../../src-main/app/handlers.js';
import type { AppEvent } from '../../src-main/contract/events.js';

describe('contract types', () => {
  it('every command has an output type and vice versa', () => {
    expectTypeOf<keyof Outputs>().toEqualTypeOf<keyof typeof commands>();
  });
  it('handlers cover the whole contract', () => {
    expectTypeOf<keyof Handlers>().toEqualTypeOf<CommandName>();
  });
  it('results are envelopes', () => {
    expectTypeOf<Result<Output<'app.info'>>>().toMatchTypeOf<
      { ok: true; value: { version: string } } | { ok: false; error: { code: string; message: string } }
    >();
  });
  it('events are named noun-verbed', () => {
    expectTypeOf<AppEvent['type']>().toMatchTypeOf<`${string}-${string}ed`>();
  });
});
