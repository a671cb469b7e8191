/**
 * A pair without DRBD: the secondary's disk becomes a byte copy of the primary's, host to host
 * over the crossover (architecture.md, principle 8: nothing large passes through the desktop).
 * The returning host serves its (sized) file over NBD on its crossover address with qemu-nbd,
 * the primary host writes into it with qemu-img; both ends are checked by sha256.
 */
import { LockstepError } from '../contract/index.js';
import type { SshSession } from '../hosts/ssh-session.js';
import type { StepContext } from '../tasks/step.js';
import { noRoomFor, remoteSha256, type UploadFor } from '../hosts/remote-files.js';
import { HOST_PATHS } from '../hosts/vm-layout.js';

/** The one-shot NBD server of a copy (not COLO's: that one is the secondary QEMU's, port 9999). */
export const COPY_PORT = 10809;
const PID = `${HOST_PATHS.run}/disk-copy-nbd.pid`;

/** Cold start only (no VM runs on either host): copies `disk` from `sa` to the same path on `sb` via `xb`. */
export async function copyDiskHostToHost(
  sa: SshSession,
  sb: SshSession,
  disk: string,
  xb: string,
  step: Pick<StepContext<unknown>, 'progress' | 'log'>,
  o: UploadFor,
): Promise<void> {
  const want = await remoteSha256(sa, disk);
  if (want === null) throw new LockstepError({ code: 'no-disk', message: `The guest's disk ${disk} is missing on ${sa.target.address}.` });
  if ((await remoteSha256(sb, disk)) === want) return;
  const size = (await sa.check(['stat', '-c', '%s', disk])).trim();
  const need = Number(size);
  await sb.check(['mkdir', '-p', HOST_PATHS.lib, HOST_PATHS.run]);
  // a file system too small is said before anything is written (the copy would be sparse at first and fail late)
  const full = await noRoomFor(sb, disk, need, o);
  if (full) throw full;
  const t0 = Date.now();
  step.progress({ fraction: 0, message: `Copying the guest's disk (${(need / 2 ** 20).toFixed(0)} MiB) host to host over the crossover` });
  const part = `${disk}.part`;
  try {
    await stopServer(sb);
    await sb.check(['dd', 'if=/dev/zero', `of=${part}`, 'bs=1', 'count=0', `seek=${size}`, 'status=none']);
    await sb.check(['qemu-nbd', '--fork', `--pid-file=${PID}`, '-f', 'raw', '-b', xb, '-p', String(COPY_PORT), '-x', 'disk', part], {
      fix: 'Install qemu-utils on the host (lockstep preflight run A B), then protect again.',
    });
    await sa.check(['qemu-img', 'convert', '-n', '-f', 'raw', '-O', 'raw', disk, `nbd://${xb}:${COPY_PORT}/disk`], {
      timeoutMs: 3_600_000,
      fix: `Check the crossover link (lockstep link status) and port ${COPY_PORT} between the hosts, then protect again.`,
    });
    await stopServer(sb);
    if ((await remoteSha256(sb, part)) !== want)
      throw new LockstepError({
        code: 'disk-copy-differs',
        message: "The copy of the guest's disk differs from the primary's.",
        fix: 'Protect again (the copy is made afresh).',
      });
  } catch (e) {
    // nothing half-done: no server, no partial file
    await stopServer(sb);
    await sb.exec(['rm', '-f', part]);
    throw (await noRoomFor(sb, disk, need, o, (e as Error).message)) ?? e;
  }
  await sb.check(['mv', part, disk]);
  const secs = (Date.now() - t0) / 1000;
  step.progress({ fraction: 1, message: `Disk copied host to host in ${secs.toFixed(1)} s`, rate: Number(size) / Math.max(secs, 0.001), rateUnit: 'B/s' });
  step.log(`Disk copied from ${sa.target.address} to ${sb.target.address} over the crossover (full copy: no DRBD on this pair), ${secs.toFixed(1)} s`);
}

async function stopServer(s: SshSession): Promise<void> {
  await s.exec(['sh', '-c', 'p=$(cat "$1" 2>/dev/null) && kill "$p" 2>/dev/null; rm -f "$1"; true', 'sh', PID]);
}
