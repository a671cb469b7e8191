/**
 * Every error's fix is an action that can succeed, never the thing that just failed. A walk over
 * every error the code can raise (each `err('code', …)` and `new LockstepError({ code, … })` in
 * src-main): a fix that only says to run the failing step's own command again is refused (it needs
 * a change first). And the fixes computed at run time: the MTU step never offers the MTU that just
 * failed, and a ping without `-M do` gets a ping that has it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mtuFailureFix, parseDfProbe } from '../../src-main/link/addressing.js';

const SRC = new URL('../../src-main/', import.meta.url).pathname;
const fx = (name: string) => readFileSync(new URL(`../fixtures/link/${name}`, import.meta.url), 'utf8');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Site {
  where: string;
  code: string;
  fix: string | null;
  step: string | null;
}

/** The text of the call or object starting at `at`, up to its matching closing bracket. */
function balanced(text: string, at: number): string {
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '{' || c === '[') depth++;
    if (c === ')' || c === '}' || c === ']') if (--depth === 0) return text.slice(at, i + 1);
  }
  return text.slice(at);
}

const literal = (s: string | undefined) => (s === undefined ? null : s.replace(/\$\{[^}]*\}/g, 'X'));

function sites(): Site[] {
  const out: Site[] = [];
  for (const path of files(SRC)) {
    const text = readFileSync(path, 'utf8');
    const where = relative(SRC, path);
    for (const m of text.matchAll(/\berr\(\s*'([a-z0-9-]+)'|new LockstepError\(\{/g)) {
      const body = balanced(text, m.index + m[0].length - 1);
      const code = m[1] ?? /\bcode:\s*'([a-z0-9-]+)'/.exec(body)?.[1];
      if (!code) continue;
      const fixM = /\bfix:\s*(?:'((?:[^'\\]|\\.)*)'|`((?:[^`\\]|\\.)*)`)/.exec(body);
      const stepM = /\bstep:\s*'([a-z0-9-]+)'/.exec(body);
      out.push({ where: `${where}:${text.slice(0, m.index).split('\n').length}`, code, fix: literal(fixM?.[1] ?? fixM?.[2]), step: stepM?.[1] ?? null });
    }
  }
  return out;
}

/** The command whose plan a step belongs to: `link-mtu` → `link`, `mirror-sync` → `mirror`; null outside a plan's step (what was tried is then another command). */
const family = (s: Site) => (s.step === null ? null : s.step.split('-')[0]!);

/** "lockstep link setup", "run `lockstep link setup` again": nothing but the same command once more. */
function onlyRerun(fix: string): string | null {
  const f = fix
    .replace(/[`'"]/g, '')
    .replace(/^(then|run|try)\s+/i, '')
    .replace(/\s+(again|once more)\.?$/i, '')
    .trim();
  const m = /^lockstep (\w+) (\w+)(?: [A-Z_ ]+)?$/.exec(f);
  return m ? m[1]! : null;
}

describe('every error code: a fix that is not what was tried', () => {
  const all = sites();

  it('the walk finds the errors of every capability', () => {
    const codes = new Set(all.map((s) => s.code));
    expect(codes.size).toBeGreaterThan(100);
    // plan errors that name their step and a literal fix: the material of the re-run rule below
    expect(all.filter((s) => s.step !== null && s.fix !== null).length).toBeGreaterThan(12);
    for (const c of ['link-mtu', 'link-ping-no-df', 'link-measure-failed', 'mirror-no-drbd', 'host-program-unlisted', 'preflight-failed'])
      expect([...codes], c).toContain(c);
  });

  it('no fix only re-runs the failing step’s own command', () => {
    const bad = all.filter((s) => s.fix !== null && family(s) !== null && onlyRerun(s.fix) === family(s)).map((s) => `${s.where} ${s.code}: ${s.fix}`);
    expect(bad).toEqual([]);
  });

  it('no fix reboots or installs a kernel without naming why (lab hosts get the kernel lab)', () => {
    const bad = all.filter((s) => s.fix !== null && /&& reboot\b/.test(s.fix) && !/lab/.test(s.fix)).map((s) => `${s.where} ${s.code}: ${s.fix}`);
    expect(bad).toEqual([]);
  });

  it('the rule catches a re-run (the check can fail)', () => {
    expect(onlyRerun('lockstep link setup again')).toBe('link');
    expect(onlyRerun('Run `lockstep mirror setup` again')).toBe('mirror');
    expect(onlyRerun('lockstep lockstep protect HOST_A HOST_B')).toBe('lockstep');
    expect(onlyRerun('Check the cable, then run `lockstep link setup` again')).toBeNull();
  });
});

describe('MTU: never the setting that just failed', () => {
  const failed = parseDfProbe(fx('df-peer-1500.stdout') + fx('df-peer-1500.stderr'));

  it('9000 failed: 1500 (or auto) is offered, never 9000', () => {
    const fix = mtuFailureFix(9000, failed);
    expect(fix).toContain('--mtu 1500');
    expect(fix).not.toContain('9000');
  });

  it('1500 failed: the cable and the NICs are named, never --mtu 1500', () => {
    const fix = mtuFailureFix(1500, failed, 'hostA');
    expect(fix).not.toMatch(/--mtu/);
    expect(fix).toMatch(/cable/);
  });

  it('a ping without -M do (busybox): the probe is unsupported and the fix is iputils’ ping, for any MTU', () => {
    const probe = parseDfProbe(fx('df-busybox.stdout') + fx('df-busybox.stderr'));
    expect(probe).toMatchObject({ ok: false, unsupported: true });
    for (const mtu of [1500, 9000]) {
      const fix = mtuFailureFix(mtu, probe, 'hostA');
      expect(fix).not.toMatch(/--mtu/);
      expect(fix).toMatch(/ping -M do/);
      expect(fix).toContain('apt-get install -y iputils-ping');
      expect(fix).toContain('dnf install -y iputils');
    }
    // and a ping that does have it is not taken for one that does not
    expect(parseDfProbe(fx('df-9000.txt')).unsupported).toBeUndefined();
    expect(failed.unsupported).toBeUndefined();
  });
});
