/** Pure: concrete hosts named in ~/.ssh/config (wildcard patterns are skipped). */
export interface SshConfigHost {
  alias: string;
  hostName: string;
  port: number;
  user?: string;
  identityFile?: string;
}

export function parseSshConfig(text: string, home = '~'): SshConfigHost[] {
  const out: SshConfigHost[] = [];
  let current: { aliases: string[]; opts: Record<string, string> } | null = null;
  const flush = () => {
    if (!current) return;
    for (const alias of current.aliases) {
      if (/[*?!]/.test(alias)) continue;
      const h: SshConfigHost = { alias, hostName: current.opts.hostname ?? alias, port: Number(current.opts.port ?? 22) };
      if (current.opts.user) h.user = current.opts.user;
      if (current.opts.identityfile) h.identityFile = current.opts.identityfile.replace(/^~(?=\/)/, home);
      if (Number.isInteger(h.port) && h.port > 0 && h.port < 65536) out.push(h);
    }
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^([^\s=]+)\s*=?\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.replace(/^"(.*)"$/, '$1');
    if (key === 'host') {
      flush();
      current = { aliases: value.split(/\s+/).filter(Boolean), opts: {} };
    } else if (key === 'match') {
      flush();
      current = null;
    } else if (current && !(key in current.opts)) current.opts[key] = value;
  }
  flush();
  return out;
}
