import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';

const home = tempDir();
const env = { LOCKSTEP_HOME: home.path };
afterAll(() => home.remove());

describe('lockstep CLI', () => {
  it('prints app info as text and as JSON', () => {
    const text = cli(['app', 'info'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`home: ${home.path}`);
    const json = cli(['app', 'info', '--json'], env);
    const r = JSON.parse(json.stdout) as { ok: boolean; value: { door: string; database: string } };
    expect(r).toMatchObject({ ok: true, value: { door: 'cli', database: `${home.path}/lockstep.db` } });
  });

  it('writes a note and lists it back from the store', () => {
    expect(cli(['events', 'note', 'first note'], env).code).toBe(0);
    const list = cli(['events', 'list', '--query', 'first', '--json'], env);
    const r = JSON.parse(list.stdout) as { ok: true; value: { message: string; source: string }[] };
    expect(r.value.map((e) => e.message)).toEqual(['first note']);
  });

  it('bad input: clear error with a fix, exit ≠ 0, nothing written', () => {
    const before = cli(['events', 'list', '--json'], env).stdout;
    const cases: [string[], RegExp][] = [
      [['events', 'list', '--limit', 'many'], /Invalid limit/],
      [['events', 'note', ''], /Invalid message/],
      [['tasks', 'cancel', 'x;rm -rf /'], /Invalid planId/],
      [['frobnicate', 'now'], /Unknown command/],
      [['events', 'list', '--evil', '1'], /Unknown option --evil/],
    ];
    for (const [args, msg] of cases) {
      const r = cli(args, env);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toMatch(/fix: /);
    }
    expect(cli(['events', 'list', '--json'], env).stdout).toBe(before);
  });

  it('help lists every command', () => {
    const r = cli(['--help'], env);
    expect(r.code).toBe(0);
    for (const c of ['app info', 'events list', 'events note', 'tasks list', 'tasks cancel']) expect(r.stdout).toContain(c);
  });
});
