/**
 * Pure: findings about the programs the app runs on the host (hosts/inventory): each one that is
 * missing, or present without the capability the app uses (busybox's `ip` has no `-j`, its `ping`
 * no `-M do`), named with its feature and the install command for THIS host's distribution.
 */
import { installFix } from '../hosts/distro.js';
import { HOST_PROGRAMS, type HostProgram, type Use } from '../hosts/inventory.js';
import type { HostFacts, ProbeFacts } from '../hosts/facts/facts.js';
import type { Emit, Finding } from './findings-common.js';

/** Which probe shows a program's capability. */
const PROBE: Partial<Record<string, keyof ProbeFacts>> = { ip: 'ipJson', ping: 'pingDf', ss: 'ss', timeout: 'timeout', setsid: 'setsid' };

const BLOCKS: Record<Exclude<Use, 'optional'>, Finding['blocks']> = { all: 'all', link: 'all', mirror: 'mirror', lockstep: 'lockstep', agent: 'all' };

export interface ToolGap {
  program: HostProgram;
  /** 'missing': not on PATH; 'lacks': there, but its probe failed (another implementation, e.g. busybox's). */
  kind: 'missing' | 'lacks';
  path: string | null;
}

/** Pure: the inventory programs a host lacks (only when the host was asked: older gathers say nothing). */
export function toolGaps(facts: HostFacts): ToolGap[] {
  if (facts.programs === null) return [];
  const out: ToolGap[] = [];
  for (const p of HOST_PROGRAMS) {
    if (p.use === 'optional' || p.reportedBy) continue;
    const path = facts.programs[p.name] ?? null;
    const probe = PROBE[p.name];
    if (path === null) out.push({ program: p, kind: 'missing', path });
    else if (probe && facts.probes[probe] === false) out.push({ program: p, kind: 'lacks', path });
  }
  return out;
}

export function toolsFindings(facts: HostFacts, { add, ok }: Emit): void {
  if (facts.programs === null) return;
  const gaps = toolGaps(facts);
  for (const g of gaps) {
    const p = g.program;
    const use = p.use as Exclude<Use, 'optional'>;
    add({
      id: `tool-${p.name}`,
      level: 'fail',
      blocks: BLOCKS[use],
      what:
        g.kind === 'missing'
          ? `${p.name} is not installed`
          : `${p.name} (${g.path}) lacks ${p.needs ?? 'what the app uses'}${/busybox/.test(g.path ?? '') ? ': it is busybox’s' : ''}`,
      why: `Lockstep Lab runs ${p.name} on this host: it ${p.feature}${p.needs ? `, and needs ${p.needs}` : ''}.${g.kind === 'lacks' ? ' Another implementation answered (a minimal or busybox userland).' : ''}`,
      fix: installFix([p.name], facts.os),
    });
  }
  if (gaps.length === 0) {
    const checked = HOST_PROGRAMS.filter((p) => p.use !== 'optional' && !p.reportedBy).length;
    ok('tools', `Every program the app runs here is installed (${checked} checked)`, 'ip -j, ping -M do, ss filters, GNU timeout and setsid -f work.');
  }
}
