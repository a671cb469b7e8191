/**
 * Pure: validation of everything that reaches corosync.conf, the Pacemaker configuration or a
 * remote command line of the cluster. Nothing is concatenated into a config from a string that
 * did not pass one of these.
 */
import { LockstepError } from '../contract/errors.js';

function bad(code: string, message: string, fix: string): LockstepError {
  return new LockstepError({ code, message, fix, step: 'cluster-config' });
}

const show = (v: unknown) => JSON.stringify(String(v).slice(0, 70));

/**
 * A Corosync/Pacemaker node name: exactly the host's `uname -n` (a host name: labels of letters,
 * digits and "-", dot-separated, ≤ 64 characters).
 *
 * Not lowercased, although Pacemaker prefers lowercase names: DRBD's crm-fence-peer.sh names
 * nodes by `uname -n` (its constraint is "#uname ne $(uname -n)", and it finds the peer's
 * node_state by uname), as do DRBD's `on` sections. Measured on the kernel lab with hosts named
 * hostA/hostB and Pacemaker nodes hosta/hostb: the constraint it placed forbade promotion on
 * EVERY node, and a live peer would have been judged unreachable. A host whose name has
 * capitals keeps them; renaming the host (and its DRBD `on` section) is the way to lowercase.
 */
export function assertNodeName(name: unknown): string {
  const ok = typeof name === 'string' && name.length <= 64 && name.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
  if (!ok)
    throw bad(
      'bad-node-name',
      `Not a usable cluster node name: ${show(name)}.`,
      'The node name is the host’s `uname -n`: letters, digits, "-" and "." only (hostnamectl set-hostname NAME).',
    );
  return name as string;
}

/** The cluster node name of a host: its `uname -n` as it is (see assertNodeName). */
export function nodeNameOf(uname: string): string {
  return assertNodeName(uname.trim());
}

/** Pacemaker warns about capitals in node names (the name still works). */
export const hasCapitals = (name: string): boolean => /[A-Z]/.test(name);

/** corosync's cluster_name (also the qnetd cluster key): letters, digits, "_" and "-", ≤ 32. */
export function assertClusterName(name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_-]{0,31}$/.test(name))
    throw bad('bad-cluster-name', `Not a usable cluster name: ${show(name)}.`, 'Use 1–32 characters from A–Z, a–z, 0–9, "_" and "-", e.g. lockstep.');
  return name;
}

/** A Pacemaker resource or constraint id (an XML ID and a crm shell word). */
export function assertResourceId(id: unknown): string {
  if (typeof id !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/.test(id))
    throw bad(
      'bad-resource-id',
      `Not a usable Pacemaker resource id: ${show(id)}.`,
      'Use 1–63 characters from A–Z, a–z, 0–9, "_", "." and "-", starting with a letter or "_".',
    );
  return id;
}

/** Dotted-quad IPv4 a peer can reach (no leading zeros; not 0/8, loopback, multicast, broadcast). */
export function assertNodeAddress(address: unknown, what = 'cluster address'): string {
  const m = typeof address === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address) : null;
  const octets = m ? m.slice(1).map((o) => (o.length > 1 && o.startsWith('0') ? NaN : Number(o))) : [];
  const first = octets[0] ?? 0;
  if (!m || !octets.every((o) => o >= 0 && o <= 255) || first === 0 || first === 127 || first >= 224)
    throw bad('bad-address', `Not a usable ${what}: ${show(address)}.`, 'Give an IPv4 address the other hosts reach, e.g. 192.168.1.11.');
  return address as string;
}

/** An absolute path on a host that goes into a config file or an argv: no spaces, quotes or "..". */
export function assertHostPath(path: unknown, what = 'path'): string {
  const ok =
    typeof path === 'string' &&
    path.length <= 255 &&
    /^\/[A-Za-z0-9._+:@,=-][A-Za-z0-9._+:@,=/-]*$/.test(path) &&
    !path.split('/').some((s) => s === '..' || s === '.') &&
    !path.includes('//');
  if (!ok) throw bad('bad-path', `Not a usable ${what}: ${show(path)}.`, 'Use an absolute path of letters, digits and ._+:@,=- only.');
  return path as string;
}

export function assertIntIn(v: unknown, lo: number, hi: number, what: string, fix: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw bad('bad-request', `Not a usable ${what}: ${JSON.stringify(v)} (${lo}–${hi}).`, fix);
  return v;
}
