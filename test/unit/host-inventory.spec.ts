/**
 * The inventory of host programs is complete: a scan of src-main finds every program the code runs
 * on a host (argv literals handed to exec/check/stream/cmd or returned as an Argv, the programs a
 * wrapper starts, the commands inside the constant shell scripts) and fails on one the inventory
 * does not list. And the one door every command takes (hostCommandLine) refuses an unlisted program.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockstepError } from '../../src-main/contract/index.js';
import { ENV, hostArgv, hostCommandLine } from '../../src-main/hosts/host-command.js';
import { HOST_PROGRAMS, hostProgram, isListedProgram } from '../../src-main/hosts/inventory.js';
import { GATHER_SCRIPT } from '../../src-main/hosts/facts/gather-script.js';

const SRC = new URL('../../src-main/', import.meta.url).pathname;
/** Files that run commands on THIS machine (child_process), not on a host. */
const LOCAL = ['virtual-lab/local.ts', 'virtual-lab/topology.ts', 'virtual-lab/lab-plans.ts', 'agent/witness.ts', 'transports/', 'launcher/', 'electron/'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const sources = files(SRC)
  .map((p) => ({ path: relative(SRC, p), text: readFileSync(p, 'utf8') }))
  .filter((f) => !LOCAL.some((l) => f.path.startsWith(l)));

/** Builtins and keywords of sh: not programs. */
const SHELL_WORDS = new Set(
  'echo printf read exit set shift exec trap wait command for while if then fi do done case esac [ ] : true false return local export cd umask kill test eval unset in else elif break continue'.split(
    ' ',
  ),
);
const WRAPPERS = new Set(['timeout', 'setsid', 'env', 'sudo', ENV]);

/** The program a literal argv runs (through its wrappers). */
function programsOf(literals: string[]): string[] {
  const out = [literals[0]!];
  if (WRAPPERS.has(literals[0]!)) {
    const next = literals.slice(1).find((x) => !x.startsWith('-') && !x.includes('=') && !/^\d+$/.test(x));
    if (next) out.push(next);
  }
  return out;
}

/** argv literals in host-exec positions: `.exec([`, `.check([`, `.stream([`, `cmd(side, [`, `(): Argv => [`, `return [` in an Argv function, `argv: [`. */
function argvLiterals(text: string): { at: number; literals: string[] }[] {
  const out: { at: number; literals: string[] }[] = [];
  const open = /\[\s*'([^'\\]*)'/g;
  for (let m = open.exec(text); m; m = open.exec(text)) {
    const before = text.slice(Math.max(0, m.index - 300), m.index);
    const hostExec =
      /(\.exec|\.check|\.stream|\bcmd)\(\s*(?:[\w.'"]+,\s*)?$/.test(before) ||
      /\bargv:\s*$/.test(before) ||
      /Argv\s*=>\s*$/.test(before) ||
      /const qemu = [^;]*$/.test(before) ||
      (/return\s*$/.test(before) && /\):\s*(Argv|string\[\])\s*\{[^}]*$/.test(before));
    if (!hostExec) continue;
    // the literal elements up to the closing bracket of this array
    let depth = 0;
    let end = m.index;
    for (; end < text.length; end++) {
      if (text[end] === '[') depth++;
      if (text[end] === ']' && --depth === 0) break;
    }
    const literals = [...text.slice(m.index, end).matchAll(/'([^'\\]*)'/g)].map((x) => x[1]!);
    out.push({ at: m.index, literals });
  }
  return out;
}

/** The literal text of an expression: its string and template pieces (`${…}` as a placeholder), line by line. */
function literalText(expr: string): string {
  return [...expr.matchAll(/'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g)].map((m) => (m[1] ?? m[2] ?? '').replace(/\$\{[^}]*\}/g, 'X')).join('\n');
}

/** The scripts handed to `sh -c` (a literal, or a constant of any source file). */
function scriptsRun(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'sh',\s*'-c',\s*('(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|[A-Za-z_][\w.]*)/g)) {
    const arg = m[1]!;
    if (/^['`]/.test(arg)) out.push(literalText(arg));
    else {
      const id = arg.split('.').pop()!;
      const def = allText.match(new RegExp(`(?:const|let) ${id}\\b[^=]*=\\s*([\\s\\S]*?);\\n`));
      expect(def, `the script constant ${id}`).not.toBeNull();
      out.push(literalText(def![1]!));
    }
  }
  return out;
}
const allText = sources.map((f) => f.text).join('\n');

/** The command words of a script (first word of each simple command). */
export function commandWords(script: string): string[] {
  const out: string[] = [];
  const cleaned = script.replace(/\$\{[^}]*\}/g, 'X').replace(/'[^']*'/g, "''");
  for (let seg of cleaned.split(/;|&&|\|\||\||\$\(|`|\n|\bthen\b|\bdo\b|\belse\b|\{|\(|\)|!/)) {
    seg = seg.trim().replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/, '');
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(seg)) continue;
    let [w, ...rest] = seg.split(/\s+/);
    if (w === ENV || w === '$ENV' || w === 'env' || w === '$TO' || w === '$SUDO') [w, ...rest] = rest;
    while (w === '$TO' || w === '$SUDO' || w === '$ENV') [w, ...rest] = rest;
    if (w === 'timeout' && rest[0] !== undefined) out.push('timeout');
    if (!w || SHELL_WORDS.has(w) || /^[$"'<>&0-9]|^-|[<>]/.test(w) || w.endsWith('()') || !/^[a-z][a-z0-9._+-]*$/.test(w)) continue;
    out.push(w);
  }
  return out;
}

describe('inventory of host programs', () => {
  it('lists every program the code runs on a host (argv literals and their wrapped programs)', () => {
    const unlisted: string[] = [];
    let seen = 0;
    for (const f of sources)
      for (const a of argvLiterals(f.text)) {
        for (const p of programsOf(a.literals)) {
          seen++;
          if (!isListedProgram(p)) unlisted.push(`${f.path}: ${p} (${a.literals.slice(0, 4).join(' ')})`);
        }
      }
    expect(seen).toBeGreaterThan(80);
    expect(unlisted).toEqual([]);
  });

  it('lists every command inside the constant shell scripts (and the preflight’s gather script)', () => {
    const unlisted = new Set<string>();
    const words = new Set<string>();
    for (const f of sources)
      for (const s of scriptsRun(f.text))
        for (const w of commandWords(s)) {
          words.add(w);
          if (!isListedProgram(w)) unlisted.add(`${f.path}: ${w}`);
        }
    // the scripts' programs were found at all (cat, dmesg, ip through env, socat, blkid, …)
    for (const w of ['cat', 'dmesg', 'grep', 'socat', 'blkid', 'findmnt', 'mv', 'install', 'readlink']) expect(words, w).toContain(w);
    const gatherFunctions = new Set([...GATHER_SCRIPT.matchAll(/^([a-z0-9_]+)\(\) \{/gm)].map((m) => m[1]!));
    for (const w of commandWords(GATHER_SCRIPT.replace(/^#.*$/gm, ''))) if (!isListedProgram(w) && !gatherFunctions.has(w)) unlisted.add(`gather: ${w}`);
    expect([...unlisted]).toEqual([]);
  });

  it('the scan itself finds what it must: a program in a new argv or script is caught', () => {
    expect(argvLiterals("await pair.check(side, ['frobnicate', '-x'])").map((a) => programsOf(a.literals))).toEqual([['frobnicate']]);
    expect(argvLiterals("cmd('B', ['timeout', t, 'nc6', '-l'])").map((a) => programsOf(a.literals))).toEqual([['timeout', 'nc6']]);
    expect(commandWords('p=$(cat "$1") || exit 1; frob -q | grep x && /usr/bin/env ip -j link')).toEqual(['cat', 'frob', 'grep', 'ip']);
  });

  it('every entry names a feature and a Debian package; no name twice', () => {
    const names = HOST_PROGRAMS.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of HOST_PROGRAMS) {
      expect(p.feature.length, p.name).toBeGreaterThan(5);
      expect(p.pkg.deb, p.name).toMatch(/^[a-z0-9.+-]+$/);
    }
    expect(hostProgram('ip')?.needs).toMatch(/-j/);
    expect(hostProgram('ping')?.needs).toMatch(/-M do/);
  });
});

describe('hostCommandLine: the one door of every host command', () => {
  it('starts a listed program through /usr/bin/env (never a shell applet) and quotes every argument', () => {
    expect(hostCommandLine(['ip', '-j', 'link', 'show', 'dev', 'a;b'])).toBe("/usr/bin/env ip -j link show dev 'a;b'");
    expect(hostCommandLine(['ip', '-j', 'addr'], true)).toBe('sudo -n -- /usr/bin/env ip -j addr');
    expect(hostArgv(['/var/lib/lockstep/agent/lockstep-agent', '--once-status'])).toEqual(['/var/lib/lockstep/agent/lockstep-agent', '--once-status']);
  });

  it('refuses a program the inventory does not list, and paths outside the app’s own directories', () => {
    for (const argv of [['frobnicate'], ['/bin/rm', '-rf', '/'], ['/var/lib/lockstep/../../bin/sh'], ['']]) {
      let e: unknown;
      try {
        hostCommandLine(argv);
      } catch (x) {
        e = x;
      }
      expect(e, argv.join(' ')).toBeInstanceOf(LockstepError);
      expect((e as LockstepError).code).toBe('host-program-unlisted');
      expect((e as LockstepError).fix).toContain('inventory');
    }
  });
});
