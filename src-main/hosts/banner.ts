import { connect } from 'node:net';

/** What one address:port said to a connection: an SSH banner, or why there was none. */
export type SshProbe = { banner: string } | { why: 'no-answer' | 'refused' | 'not-ssh' | 'unreachable' };

/** Connects once and reads the identification line an SSH server sends first. */
export function probeSsh(address: string, port: number, timeoutMs = 1500): Promise<SshProbe> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port });
    let buf = '';
    const done = (v: SshProbe) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done({ why: buf ? 'not-ssh' : 'no-answer' }));
    sock.once('error', (e: NodeJS.ErrnoException) =>
      done({ why: e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' ? 'unreachable' : 'no-answer' }),
    );
    sock.on('data', (d) => {
      buf += String(d);
      const nl = buf.indexOf('\n');
      if (nl >= 0 || buf.length > 255) {
        const line = buf.slice(0, nl >= 0 ? nl : 255).replace(/\r$/, '');
        done(line.startsWith('SSH-') ? { banner: line.slice(0, 255) } : { why: 'not-ssh' });
      }
    });
    sock.once('end', () => done({ why: 'not-ssh' }));
  });
}

/** The SSH identification line a server sends first, or null (closed port, not SSH, timeout). */
export async function readSshBanner(address: string, port: number, timeoutMs = 1500): Promise<string | null> {
  const p = await probeSsh(address, port, timeoutMs);
  return 'banner' in p ? p.banner : null;
}

/** Says in a sentence why addresses gave no SSH host, from the counts of each outcome. */
export function whyNoneFound(counts: Partial<Record<'no-answer' | 'refused' | 'not-ssh' | 'unreachable', number>>, ports: number[]): string[] {
  const p = ports.join(', ');
  const out: string[] = [];
  if (counts['no-answer']) out.push(`${counts['no-answer']} address(es) gave no answer on port ${p}: the host is off, or a firewall drops the connection.`);
  if (counts.unreachable) out.push(`${counts.unreachable} address(es) are unreachable from this machine (no route to them).`);
  if (counts.refused)
    out.push(
      `${counts.refused} address(es) refused the connection on port ${p}: the host is up but SSH is closed there (sshd not running, or on another port).`,
    );
  if (counts['not-ssh']) out.push(`${counts['not-ssh']} address(es) answered on port ${p} with something that is not SSH.`);
  return out;
}
