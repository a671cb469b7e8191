// The house rules of src-main, checked over the import graph (see README "Architecture"):
// imports run downward; capabilities see the environment only through hosts/environment.ts;
// nothing below app/ imports app/; no folder cycle; no file over 400 lines. Known debt is
// listed by name below and may only shrink: a listed exception that no longer happens fails too.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs helper (also runnable by hand: node test/architecture/import-graph.mjs)
import { cycles, filesUnder, folderEdges } from '../architecture/import-graph.mjs';

type FileEdge = { file: string; from: string; to: string };
const root = join(import.meta.dirname, '../..');
const src = join(root, 'src-main');
const { edges, fileEdges } = folderEdges(src) as { edges: Map<string, Set<string>>; fileEdges: FileEdge[] };

const CAPABILITIES = ['preflight', 'link', 'mirror', 'lockstep', 'drill', 'agent', 'console', 'vm', 'cluster'];
const DOORS = ['transports', 'electron', 'launcher'];

/** Capability → another capability's tools (not its service): none left; keep it so. */
const CROSS_CAPABILITY_DEBT: string[] = [];
const CYCLE_DEBT: string[] = [];
const LONG_FILE_DEBT: string[] = [];

describe('import graph of src-main', () => {
  it('nothing below the core imports app/ (only the doors do)', () => {
    const bad = fileEdges.filter((e) => e.to === 'app' && !DOORS.includes(e.from) && e.from !== 'app').map((e) => e.file);
    expect(bad).toEqual([]);
  });

  it('capabilities never import virtual-lab/ (they see the Environment interface in hosts/)', () => {
    const bad = fileEdges.filter((e) => CAPABILITIES.includes(e.from) && e.to === 'virtual-lab').map((e) => e.file);
    expect(bad).toEqual([]);
  });

  it('plumbing and host tools import no capability, no environment, no core', () => {
    const low = ['contract', 'store', 'events', 'tasks', 'net', 'hosts'];
    const bad = fileEdges.filter((e) => low.includes(e.from) && [...CAPABILITIES, 'virtual-lab', 'app', ...DOORS].includes(e.to));
    expect(bad.map((e) => `${e.file} → ${e.to}`)).toEqual([]);
    expect([...(edges.get('contract') ?? [])]).toEqual([]);
  });

  it("a capability imports another capability's service only, never its tools (known debt listed)", () => {
    const found = [
      ...new Set(
        fileEdges
          .filter((e) => CAPABILITIES.includes(e.from) && CAPABILITIES.includes(e.to))
          .filter((e) => {
            const text = readFileSync(join(src, e.file), 'utf8');
            // an import of the other capability's *-service.js (its state, through the core) is allowed
            return new RegExp(`from '\\.\\./${e.to}/(?![a-z-]*-service\\.js')`).test(text);
          })
          .map((e) => `${e.file} → ${e.to}`),
      ),
    ].sort();
    expect(found).toEqual([...CROSS_CAPABILITY_DEBT].sort());
  });

  it('no folder-level cycle (known debt listed)', () => {
    expect(cycles(edges)).toEqual(CYCLE_DEBT);
  });
});

describe('file size', () => {
  it('no TS, Svelte or C file over 400 lines (known debt listed)', () => {
    const files = [
      ...filesUnder(src, ['.ts', '.cts']),
      ...filesUnder(join(root, 'src-renderer'), ['.ts', '.svelte']),
      ...filesUnder(join(root, 'native'), ['.c', '.h']),
    ] as string[];
    const long = files
      .filter((f) => readFileSync(f, 'utf8').split('\n').length > 401)
      .map((f) => relative(root, f))
      .sort();
    expect(long).toEqual([...LONG_FILE_DEBT].sort());
  });
});
