import { LockstepError } from '../contract/index.js';
import { COMPARE_TUNING, PORTS } from './colo-args.js';
import type { Qmp } from '../hosts/qmp.js';

/**
 * The primary's half of entering COLO over QMP (field-notes/colo.md, "Protect a running guest"):
 * proxy chardevs and filters (when the VM was not started with them), the replication child,
 * then `migrate` with x-colo. Used by the cold start and by re-protect of a running survivor.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Addr = { host: string; port: number };
const socket = (id: string, addr: Addr, server: boolean) => ({
  id,
  backend: {
    type: 'socket',
    data: { addr: { type: 'inet', data: { host: addr.host, port: String(addr.port) } }, server, ...(server ? { wait: false } : {}) },
  },
});

/** Pure: the six proxy sockets of a primary, servers before their local clients. */
export function proxyChardevs(xa: string): ReturnType<typeof socket>[] {
  const loop = { host: '127.0.0.1', port: PORTS.compareLoop };
  const out = { host: '127.0.0.1', port: PORTS.compareOut };
  return [
    socket('mirror0', { host: xa, port: PORTS.mirror }, true),
    socket('compare1', { host: xa, port: PORTS.compare }, true),
    socket('compare0', loop, true),
    socket('compare0-0', loop, false),
    socket('compare_out', out, true),
    socket('compare_out0', out, false),
  ];
}

/**
 * Pure: the filters and comparer of a primary (flat object-add properties, QEMU 7.2).
 * A VM that used to be a secondary still has its filter-rewriter `rew0`: the new filters go before it.
 */
export function coloObjects(hasRewriter: boolean): Record<string, unknown>[] {
  const before = hasRewriter ? { insert: 'before', position: 'id=rew0' } : {};
  return [
    { 'qom-type': 'filter-mirror', id: 'm0', netdev: 'hn0', queue: 'tx', outdev: 'mirror0', ...before },
    { 'qom-type': 'filter-redirector', id: 'redire0', netdev: 'hn0', queue: 'rx', indev: 'compare_out', ...before },
    { 'qom-type': 'filter-redirector', id: 'redire1', netdev: 'hn0', queue: 'rx', outdev: 'compare0', ...before },
    { 'qom-type': 'iothread', id: 'iothread1' },
    {
      'qom-type': 'colo-compare',
      id: 'comp0',
      primary_in: 'compare0-0',
      secondary_in: 'compare1',
      outdev: 'compare_out0',
      iothread: 'iothread1',
      ...COMPARE_TUNING,
    },
  ];
}

/** Pure: the primary's replication node over NBD to the secondary's export (named, so it can be yanked). */
export function replicationNode(xb: string, generation: number): { replNode: string; nbdNode: string; args: Record<string, unknown> } {
  const replNode = `replication${generation}`;
  const nbdNode = `nbd${generation}`;
  return {
    replNode,
    nbdNode,
    args: {
      driver: 'replication',
      'node-name': replNode,
      mode: 'primary',
      file: { driver: 'nbd', 'node-name': nbdNode, export: 'parent0', server: { type: 'inet', host: xb, port: String(PORTS.nbd) } },
    },
  };
}

/** Adds the proxy sockets the VM lacks, then waits until the secondary is connected to mirror0 and compare1. */
export async function ensureProxies(q: Qmp, xa: string, signal?: AbortSignal): Promise<void> {
  const have = new Set((await q.exec<{ label: string }[]>('query-chardev')).map((c) => c.label));
  for (const c of proxyChardevs(xa)) if (!have.has(c.id)) await q.exec('chardev-add', c);
  // the secondary reconnects to the proxy once a second
  const deadline = Date.now() + 15_000;
  for (;;) {
    const chardevs = await q.exec<{ label: string; filename: string }[]>('query-chardev');
    const ready = ['mirror0', 'compare1'].every((l) => {
      const c = chardevs.find((x) => x.label === l);
      return c && !c.filename.startsWith('disconnected:');
    });
    if (ready) return;
    if (Date.now() > deadline || signal?.aborted)
      throw new LockstepError({
        code: 'secondary-not-connected',
        message: 'The secondary never connected to the primary over the crossover.',
        fix: `Check the crossover link (lockstep link status) and the firewall on ports ${PORTS.mirror}/${PORTS.compare}.`,
      });
    await sleep(200);
  }
}

/** Adds the filters and colo-compare the VM lacks. */
export async function ensureObjects(q: Qmp, hasRewriter: boolean): Promise<void> {
  const have = new Set((await q.exec<{ name: string }[]>('qom-list', { path: '/objects' })).map((o) => o.name));
  for (const o of coloObjects(hasRewriter)) if (!have.has(o.id as string)) await q.exec('object-add', o);
}

/**
 * Replication child, x-colo, migrate; resolves when the primary reports `colo`. `resume`: the
 * caller paused a running guest so that the disks are identical when the replication child
 * attaches; from then on every write reaches both disks, so the guest runs on during the
 * migration's precopy and pauses only for its last round (not for the whole RAM).
 */
export async function joinColo(q: Qmp, o: { xb: string; generation: number; signal?: AbortSignal; resume?: boolean }): Promise<{ replNode: string }> {
  const node = replicationNode(o.xb, o.generation);
  await q.exec('blockdev-add', node.args);
  await q.exec('x-blockdev-change', { parent: 'colo-disk0', node: node.replNode });
  if (o.resume) await q.exec('cont');
  await q.exec('migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }] });
  await q.exec('migrate-set-parameters', { 'x-checkpoint-delay': 2000 });
  await q.exec('migrate', { uri: `tcp:${o.xb}:${PORTS.migration}` });
  const until = Date.now() + 60_000;
  for (;;) {
    const m = await q.exec<{ status: string }>('query-migrate');
    if (m.status === 'colo') return { replNode: node.replNode };
    if (m.status === 'failed' || m.status === 'cancelled' || Date.now() > until || o.signal?.aborted)
      throw new LockstepError({
        code: 'colo-failed',
        message: `COLO did not start (migration ${m.status}).`,
        fix: 'Both hosts need the same QEMU (lockstep preflight run A B); then lockstep lockstep stop and protect again.',
      });
    await sleep(100);
  }
}
