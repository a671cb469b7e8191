import { connect } from 'node:net';

/** The SSH identification line a server sends first, or null (closed port, not SSH, timeout). */
export function readSshBanner(address: string, port: number, timeoutMs = 1500): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port });
    let buf = '';
    const done = (v: string | null) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(null));
    sock.once('error', () => done(null));
    sock.on('data', (d) => {
      buf += String(d);
      const nl = buf.indexOf('\n');
      if (nl >= 0 || buf.length > 255) {
        const line = buf.slice(0, nl >= 0 ? nl : 255).replace(/\r$/, '');
        done(line.startsWith('SSH-') ? line.slice(0, 255) : null);
      }
    });
    sock.once('end', () => done(null));
  });
}
