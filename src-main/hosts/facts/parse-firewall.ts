/** Pure: the firewall sections (`nft list ruleset`, `iptables -S`) → FirewallFacts. */
import type { FirewallFacts, NftChainRef } from './facts.js';
import { ok, type Section } from './parse-sections.js';

/** Pure: `nft list ruleset` → input-hook chains that filter (rules or a drop policy). */
export function nftInputChains(ruleset: string): (NftChainRef & { rules: number; policy: string | null; iptablesManaged: boolean })[] {
  const out: (NftChainRef & { rules: number; policy: string | null; iptablesManaged: boolean })[] = [];
  let depth = 0;
  let warned = false;
  let table: { family: string; name: string; iptablesManaged: boolean } | null = null;
  let chain: (NftChainRef & { rules: number; policy: string | null; hook: string | null; iptablesManaged: boolean }) | null = null;
  for (const raw of ruleset.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) {
      if (/managed by iptables-nft/.test(line)) warned = true;
      continue;
    }
    const unquoted = line.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const opens = (unquoted.match(/\{/g) ?? []).length;
    const closes = (unquoted.match(/\}/g) ?? []).length;
    const t = /^table\s+(\S+)\s+(\S+)\s*\{/.exec(line);
    const c = /^chain\s+(\S+)\s*\{/.exec(line);
    if (depth === 0 && t) {
      table = { family: t[1]!, name: t[2]!, iptablesManaged: warned };
      warned = false;
    } else if (depth === 1 && c && table) {
      chain = { family: table.family, table: table.name, chain: c[1]!, rules: 0, policy: null, hook: null, iptablesManaged: table.iptablesManaged };
    } else if (depth === 2 && chain && line !== '' && line !== '}') {
      const hook = /\bhook\s+(\S+?);?(\s|$)/.exec(line);
      if (/^type\s/.test(line) && hook) {
        chain.hook = hook[1]!;
        chain.policy = /\bpolicy\s+(\w+)/.exec(line)?.[1] ?? null;
      } else if (/^policy\s/.test(line)) {
        chain.policy = /^policy\s+(\w+)/.exec(line)?.[1] ?? null;
      } else {
        chain.rules += 1;
      }
    }
    depth = Math.max(0, depth + opens - closes);
    if (chain && depth < 2) {
      if (chain.hook === 'input' && (chain.rules > 0 || chain.policy === 'drop'))
        out.push({
          family: chain.family,
          table: chain.table,
          chain: chain.chain,
          rules: chain.rules,
          policy: chain.policy,
          iptablesManaged: chain.iptablesManaged,
        });
      chain = null;
    }
    if (depth === 0) table = null;
  }
  return out;
}

export function parseFirewall(s: Map<string, Section>): FirewallFacts {
  const nftSec = s.get('nft');
  const iptSec = s.get('iptables');
  const nft = ok(s, 'nft');
  const ipt = ok(s, 'iptables');
  const nftText = nft?.join('\n') ?? '';
  const iptText = ipt?.join('\n') ?? '';
  const chains = nftInputChains(nftText).filter((c) => !c.iptablesManaged && ['inet', 'ip', 'ip6'].includes(c.family));
  if (chains.length > 0) {
    const ch = chains.find((c) => c.family === 'inet') ?? chains[0]!;
    return { kind: 'nftables', rulesText: nftText, nftInputChain: { family: ch.family, table: ch.table, chain: ch.chain } };
  }
  if (ipt && ipt.some((l) => /^-A INPUT\s/.test(l) || /^-P INPUT (DROP|REJECT)\b/.test(l)))
    return { kind: 'iptables', rulesText: iptText, nftInputChain: null };
  const nftAbsent = !nftSec || nftSec.missing;
  const iptAbsent = !iptSec || iptSec.missing;
  if (nft === null && ipt === null && !(nftAbsent && iptAbsent)) return { kind: 'unknown', rulesText: '', nftInputChain: null };
  return { kind: 'none', rulesText: '', nftInputChain: null };
}
