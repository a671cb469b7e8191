import { LockstepError } from '../contract/index.js';
import type { SshSession } from '../hosts/ssh-session.js';
import { paths } from './colo-args.js';
import { HOST_PATHS, vmFiles, type PairRecord } from './pair-record.js';
import { Qmp } from './qmp.js';

/**
 * The two failover sequences over QMP (field-notes/colo.md). Each returns its duration in ms;
 * the caller records the new roles. `open`: a monitor connection the caller already holds
 * (QEMU serves one client per monitor socket).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls query-colo-status until mode `none` (5 s). */
async function waitColoNone(q: Qmp, code: string, message: string): Promise<void> {
  const until = Date.now() + 5000;
  while ((await q.exec<{ mode: string }>('query-colo-status')).mode !== 'none') {
    if (Date.now() > until) throw new LockstepError({ code, message });
    await sleep(10);
  }
}

/**
 * On the secondary (its primary is dead), QEMU's documented sequence: stop the NBD export, leave
 * COLO, drop the redirectors and their chardevs, announce the guest's MAC. QMP runs commands in
 * order, so all of it goes in one write (one round trip over SSH instead of one per command: the
 * guest's output flows again as soon as f2 is gone); the mode is checked last, then polled.
 */
export async function secondaryTakeOver(sb: SshSession, open?: Qmp): Promise<number> {
  const t0 = Date.now();
  const q = open && !open.closed ? open : await Qmp.open(sb, paths(HOST_PATHS.run, 'secondary').qmp, { timeoutMs: 3000 });
  const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
  try {
    const sent = [
      q.exec('nbd-server-stop'),
      q.exec('x-colo-lost-heartbeat', undefined, { timeoutMs: 5000 }),
      ...['f2', 'f1'].map((id) => quiet(q.exec('object-del', { id }))),
      ...['red1', 'red0'].map((id) => quiet(q.exec('chardev-remove', { id }))),
      q.exec('announce-self', { initial: 0, max: 500, rounds: 5, step: 100 }),
    ];
    const mode = q.exec<{ mode: string }>('query-colo-status');
    mode.catch(() => undefined); // awaited below unless an earlier command failed
    await Promise.all(sent);
    if ((await mode).mode !== 'none') await waitColoNone(q, 'failover-stuck', 'The secondary did not leave COLO mode.');
  } finally {
    q.close();
  }
  return Date.now() - t0;
}

/**
 * On the primary (its secondary is gone): yank the hung NBD/proxy/migration connections out of
 * band first, then drop the replication child, the filters and the comparer, then leave COLO.
 */
export async function primaryAlone(s: SshSession, r: PairRecord, open?: Qmp): Promise<number> {
  const t0 = Date.now();
  const files = paths(HOST_PATHS.run, vmFiles(r, 'primary'));
  const replNode = r.replNode ?? 'replication0';
  const gen = /(\d+)$/.exec(replNode)?.[1] ?? '0';
  const instances = [
    { type: 'block-node', 'node-name': `nbd${gen}` },
    { type: 'chardev', id: 'mirror0' },
    { type: 'chardev', id: 'compare1' },
    { type: 'migration' },
  ];
  // one yank per instance: QEMU refuses a whole yank when any one instance is missing
  const yank = async (): Promise<void> => {
    const oob = await Qmp.open(s, files.qmpOob, { timeoutMs: 3000, oob: true }).catch(() => null);
    try {
      await Promise.all(instances.map((i) => oob?.exec('yank', { instances: [i] }, { oob: true, timeoutMs: 2000 }).catch(() => undefined)));
    } finally {
      oob?.close();
    }
  };
  await yank();
  const q = open && !open.closed ? open : await Qmp.open(s, files.qmp, { timeoutMs: 5000 });
  try {
    await q.exec('x-blockdev-change', { parent: 'colo-disk0', child: 'children.1' }, { timeoutMs: 5000 }).catch(() => undefined);
    await q.exec('blockdev-del', { 'node-name': replNode }, { timeoutMs: 5000 }).catch(() => undefined);
    for (const id of ['m0', 'redire0', 'redire1', 'comp0', 'iothread1']) await q.exec('object-del', { id }).catch(() => undefined);
    // a checkpoint that started writing to the cut link after the first yank holds the main loop: yank again
    await q.exec('x-colo-lost-heartbeat', undefined, { timeoutMs: 5000 }).catch(async (e: unknown) => {
      if ((e as { code?: string }).code !== 'qmp-timeout') throw e;
      await yank();
    });
    await waitColoNone(q, 'alone-stuck', 'The primary did not leave COLO mode.');
  } finally {
    q.close();
  }
  return Date.now() - t0;
}
