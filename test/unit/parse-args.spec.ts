import { describe, expect, it } from 'vitest';
import { helpText, parseArgs } from '../../src-main/transports/cli/parse-args.js';

describe('CLI argument parsing', () => {
  it('maps group + verb to a command with typed options', () => {
    expect(parseArgs(['events', 'list', '--limit', '5', '--json'])).toEqual({ kind: 'command', name: 'events.list', input: { limit: 5 }, json: true });
    expect(parseArgs(['events', 'list', '--after-id=3'])).toEqual({ kind: 'command', name: 'events.list', input: { afterId: 3 }, json: false });
  });
  it('takes positional arguments in declared order', () => {
    expect(parseArgs(['events', 'note', 'hello there'])).toMatchObject({ kind: 'command', input: { message: 'hello there' } });
  });
  it('reports unknown commands and options with a fix', () => {
    expect(parseArgs(['hosts', 'explode'])).toMatchObject({ kind: 'error', message: expect.stringContaining('Unknown command') });
    expect(parseArgs(['events', 'list', '--bogus', '1'])).toMatchObject({ kind: 'error', message: expect.stringContaining('--bogus') });
    expect(parseArgs(['events', 'note', 'a', 'b'])).toMatchObject({ kind: 'error', message: expect.stringContaining('Too many') });
    expect(parseArgs(['events', 'list', '--limit'])).toMatchObject({ kind: 'error', message: expect.stringContaining('needs a value') });
  });
  it('a list option collects every occurrence (the fix the app prints, `--wipe HOST:/dev/X`, must run)', () => {
    expect(parseArgs(['mirror', 'setup', '--wipe', 'hostA:/dev/vdb'])).toMatchObject({ kind: 'command', input: { wipe: ['hostA:/dev/vdb'] } });
    expect(parseArgs(['mirror', 'setup', '--wipe=hostA:/dev/vdb', '--wipe', 'hostB:/dev/vdc'])).toMatchObject({
      input: { wipe: ['hostA:/dev/vdb', 'hostB:/dev/vdc'] },
    });
  });
  it('a flag takes no value or =true/=false; anything else is refused, not read as yes', () => {
    expect(parseArgs(['mirror', 'setup', '--blank'])).toMatchObject({ input: { blank: true } });
    expect(parseArgs(['mirror', 'setup', '--blank=false'])).toMatchObject({ input: { blank: false } });
    expect(parseArgs(['lab', 'up', '--kernel=maybe'])).toMatchObject({ kind: 'error', message: expect.stringContaining('--kernel') });
  });
  it('a non-number stays invalid for the schema to refuse', () => {
    const p = parseArgs(['events', 'list', '--limit', 'abc']);
    expect(p.kind === 'command' && Number.isNaN(p.input.limit)).toBe(true);
  });
  it('serve, help and version', () => {
    expect(parseArgs(['serve', '--port', '0', '--no-open'])).toEqual({ kind: 'serve', port: 0, open: false });
    expect(parseArgs(['serve', '--port', 'x'])).toMatchObject({ kind: 'error' });
    expect(parseArgs([])).toEqual({ kind: 'help', topic: undefined });
    expect(parseArgs(['events', 'note', '--help'])).toEqual({ kind: 'help', topic: 'events.note' });
    expect(helpText('events.note')).toContain('lockstep events note MESSAGE');
    expect(helpText()).toContain('events list');
  });
});
