import { describe, expect, it } from 'vitest';
import { commands, LockstepError, toErrorDTO, validateRequest } from '../../src-main/contract/index.js';

describe('validateRequest', () => {
  it('accepts a known command and applies defaults', () => {
    const v = validateRequest('events.list', {});
    expect(v).toEqual({ ok: true, name: 'events.list', input: { limit: 200 } });
  });

  it('refuses an unknown command and lists the known ones', () => {
    const v = validateRequest('rm -rf /', {});
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.error.code).toBe('unknown-command');
      expect(v.error.fix).toContain('events.list');
    }
  });

  it.each([
    ['wrong type', 'events.list', { limit: '5' }],
    ['out of range', 'events.list', { limit: 100000 }],
    ['unknown key', 'events.list', { limit: 5, drop: 'table' }],
    ['empty note', 'events.note', { message: '   ' }],
    ['not an object', 'events.note', 'hello'],
    ['hostile plan id', 'tasks.cancel', { planId: 'a;rm -rf /' }],
    ['prototype key', 'app.info', JSON.parse('{"__proto__":{"x":1}}')],
  ])('refuses %s with a bad-request error and a fix', (_label, name, input) => {
    const v = validateRequest(name, input);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.error.code).toBe('bad-request');
      expect(v.error.message).toMatch(/^Invalid /);
      expect(v.error.fix).toBeTruthy();
    }
  });

  it('every command has a summary and a strict input schema', () => {
    for (const [name, spec] of Object.entries(commands)) {
      expect(spec.summary.length, name).toBeGreaterThan(10);
      expect(spec.input.safeParse({ surelyNotAKey: 1 }).success, name).toBe(false);
    }
  });
});

describe('errors', () => {
  it('LockstepError keeps every field across the door', () => {
    const e = new LockstepError({ code: 'host-key-changed', message: 'Key changed', cause: 'x', fix: 'y', host: 'h', step: 's' });
    expect(toErrorDTO(e)).toEqual({ code: 'host-key-changed', message: 'Key changed', cause: 'x', fix: 'y', host: 'h', step: 's' });
  });
  it('plain errors become internal errors', () => {
    expect(toErrorDTO(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
    expect(toErrorDTO('str')).toEqual({ code: 'internal', message: 'str' });
  });
});
