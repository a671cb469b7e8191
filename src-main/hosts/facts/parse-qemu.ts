/** Pure: the qemu-* sections (version, QMP session, objects, formats, accelerators) → QemuFacts. */
import type { QemuFacts, Version } from './facts.js';
import { isObj, num, ok, type Section } from './parse-sections.js';

export function parseVersion(text: string): Version | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? 0 : Number(m[3]) } : null;
}

export function parseQemu(s: Map<string, Section>): QemuFacts {
  let versionText: string | null = null;
  const vLine = ok(s, 'qemu-version')?.find((l) => /QEMU emulator version /.test(l));
  if (vLine) versionText = vLine.replace(/^.*QEMU emulator version /, '').trim();
  let version = versionText !== null ? parseVersion(versionText) : null;

  // the QMP session: greeting (version) and query-migrate-capabilities
  let capabilities: string[] | null = null;
  for (const line of ok(s, 'qemu-qmp') ?? []) {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isObj(msg)) continue;
    const greet = isObj(msg.QMP) && isObj(msg.QMP.version) && isObj(msg.QMP.version.qemu) ? msg.QMP.version.qemu : null;
    if (greet && version === null) {
      const [major, minor, micro] = [num(greet.major), num(greet.minor), num(greet.micro)];
      if (major !== null && minor !== null && micro !== null) version = { major, minor, patch: micro };
    }
    if (Array.isArray(msg.return) && msg.return.some((c) => isObj(c) && typeof c.capability === 'string')) {
      capabilities = msg.return.flatMap((c) => (isObj(c) && typeof c.capability === 'string' ? [c.capability] : []));
    }
  }

  const objects = new Set((ok(s, 'qemu-objects') ?? []).map((l) => l.trim()));
  const formatsOf = (lines: string[] | null) => {
    const l = lines?.find((x) => x.startsWith('Supported formats:'));
    return l ? l.slice('Supported formats:'.length).trim().split(/\s+/) : null;
  };
  const formats = new Set(formatsOf(ok(s, 'qemu-formats')) ?? formatsOf(ok(s, 'qemu-img-formats')) ?? []);
  const accelerators = (ok(s, 'qemu-accel') ?? []).map((l) => l.trim()).filter((l) => /^[a-z0-9_-]+$/.test(l));
  // asked over QMP when the probe ran; else inferred: x-colo appeared in QEMU 2.8
  const xColo =
    capabilities !== null ? capabilities.includes('x-colo') : version !== null && (version.major > 2 || (version.major === 2 && version.minor >= 8));

  return {
    version,
    versionText,
    coloPieces: {
      coloCompare: objects.has('colo-compare'),
      filterMirror: objects.has('filter-mirror'),
      filterRedirector: objects.has('filter-redirector'),
      filterRewriter: objects.has('filter-rewriter'),
      iothread: objects.has('iothread'),
      replication: formats.has('replication'),
      xColo,
    },
    accelerators,
  };
}
