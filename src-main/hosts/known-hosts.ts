import { createHmac } from 'node:crypto';
import { sha256Fingerprint } from './fingerprint.js';

/** OpenSSH's host pattern for a host and port: `addr` for 22, else `[addr]:port`. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return field.split(',').some((p) => p === name);
}

/**
 * Pure: the fingerprints ~/.ssh/known_hosts records for a host (any key type).
 * Revoked (`@revoked`) keys are returned separately; `@cert-authority` lines are ignored.
 */
export function knownFingerprints(text: string, address: string, port: number): { keys: { type: string; fingerprint: string }[]; revoked: string[] } {
  const name = knownHostsName(address, port);
  const keys: { type: string; fingerprint: string }[] = [];
  const revoked: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let parts = line.split(/\s+/);
    let marker: string | undefined;
    if (parts[0]!.startsWith('@')) {
      marker = parts[0];
      parts = parts.slice(1);
    }
    if (marker === '@cert-authority' || parts.length < 3) continue;
    if (!hostMatches(parts[0]!, name)) continue;
    let fp: string;
    try {
      fp = sha256Fingerprint(Buffer.from(parts[2]!, 'base64'));
    } catch {
      continue;
    }
    if (marker === '@revoked') revoked.push(fp);
    else keys.push({ type: parts[1]!, fingerprint: fp });
  }
  return { keys, revoked };
}
