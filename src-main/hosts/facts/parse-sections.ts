/**
 * Pure: the sections of GATHER_SCRIPT's output, and the tolerant readers the section parsers share.
 * No I/O; nothing here throws on garbled input.
 */

export interface Section {
  /** stdout lines (without the trailing `!rc=` line). */
  lines: string[];
  /** Exit status; null when the program is missing or the status line was cut off. */
  rc: number | null;
  missing: boolean;
}

const HEADER = /^=== ([a-z0-9-]+)(?: @([A-Za-z0-9-]+))? ===$/;

/**
 * Splits the output into sections. The first header's token (if any) is the run's: only headers
 * with that token open a section, so a line of output cannot. The first section of a name wins.
 */
export function splitSections(text: string): Map<string, Section> {
  const out = new Map<string, Section>();
  let token: string | undefined | null = null;
  let name: string | null = null;
  let lines: string[] = [];
  const close = () => {
    if (name === null || out.has(name)) return;
    const last = lines[lines.length - 1];
    const m = last !== undefined ? /^!rc=(\d+)$/.exec(last) : null;
    if (m) out.set(name, { lines: lines.slice(0, -1), rc: Number(m[1]), missing: false });
    else if (lines.length === 1 && last === '!missing') out.set(name, { lines: [], rc: null, missing: true });
    else out.set(name, { lines, rc: null, missing: false });
  };
  const all = text.replace(/\r\n/g, '\n').split('\n');
  while (all.length > 0 && all[all.length - 1] === '') all.pop();
  for (const line of all) {
    const h = HEADER.exec(line);
    if (h && token === null) token = h[2];
    if (h && h[2] === token) {
      close();
      name = h[1]!;
      lines = [];
    } else if (name !== null) {
      lines.push(line);
    }
  }
  close();
  return out;
}

/** Lines of a section that ran and succeeded (exit 0), else null. */
export function ok(s: Map<string, Section>, name: string): string[] | null {
  const sec = s.get(name);
  return sec && sec.rc === 0 ? sec.lines : null;
}

export function firstLine(s: Map<string, Section>, name: string): string | null {
  const l = ok(s, name)?.find((x) => x.trim() !== '');
  return l === undefined ? null : l.trim();
}

export function parseJson(lines: string[] | null): unknown {
  if (!lines) return null;
  try {
    return JSON.parse(lines.join('\n')) as unknown;
  } catch {
    return null;
  }
}

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return null;
};
export const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 'true';
