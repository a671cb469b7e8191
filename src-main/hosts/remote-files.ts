/**
 * Files on a host: SHA-256 here and there, an upload that is checked before and after and never
 * leaves a truncated file, and the free-space check that turns a full disk into words.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { LockstepError } from '../contract/index.js';
import { hostId, type SshSession } from './ssh-session.js';

const localSums = new Map<string, string>();

export function localSha256(file: string): string {
  let s = localSums.get(file);
  if (!s) {
    s = createHash('sha256').update(readFileSync(file)).digest('hex');
    localSums.set(file, s);
  }
  return s;
}

export async function remoteSha256(s: SshSession, path: string): Promise<string | null> {
  const r = await s.exec(['sha256sum', path]);
  return r.code === 0 ? r.stdout.split(/\s+/)[0]! : null;
}

/** Who the upload is for, in words a person acts on: the host's name and the command to run again. */
export interface UploadFor {
  host?: string;
  again?: string;
}

/**
 * Upload only when the host's copy differs (checked by SHA-256 before and after). Written beside
 * as `.part` and renamed once whole, so a failed upload leaves neither a truncated file nor the
 * space it took; a host whose file system cannot hold the file gets `host-disk-full`.
 */
export async function ensureFile(s: SshSession, local: string, remote: string, o: UploadFor = {}): Promise<boolean> {
  const want = localSha256(local);
  if ((await remoteSha256(s, remote)) === want) return false;
  const part = `${remote}.part`;
  try {
    await s.putFile(local, part);
    await verifyUpload(s, part, want, o.again ?? 'protect');
    await s.check(['mv', '-f', part, remote]);
  } catch (e) {
    await s.exec(['rm', '-f', part]).catch(() => undefined);
    throw await uploadError(s, local, remote, e, o);
  }
  return true;
}

/** Pure: free KiB from `df -Pk DIR` (the fourth column of its second line), or null. */
export function dfAvailableKiB(text: string): number | null {
  const f = text.trim().split('\n')[1]?.trim().split(/\s+/);
  const n = Number(f?.[3]);
  return f && f.length >= 6 && Number.isFinite(n) ? n : null;
}

/** `host-disk-full` when the file system of `remote` on the host has less than `need` bytes free; else null. */
export async function noRoomFor(s: SshSession, remote: string, need: number, o: UploadFor, cause?: string): Promise<LockstepError | null> {
  const where = o.host ?? hostId(s.target);
  const dir = remote.replace(/\/[^/]*$/, '') || '/';
  const df = await s.exec(['df', '-Pk', dir]).catch(() => null);
  const free = df?.code === 0 ? dfAvailableKiB(df.stdout) : null;
  if (free === null || free * 1024 >= need) return null;
  const again = o.again ? `, then: ${o.again}` : ', then run the same command again';
  return new LockstepError({
    code: 'host-disk-full',
    message: `${where} has no room for ${remote}: it needs ${mib(need)} MiB, ${dir} has ${mib(free * 1024)} MiB free.`,
    ...(cause ? { cause } : {}),
    fix: `Free space on ${where} (\`df -h ${dir}\` there shows the file system)${again}.`,
    host: hostId(s.target),
    details: { file: remote, neededBytes: need, freeBytes: free * 1024, dir },
  });
}

/** A failed upload in words: the file system too small for the file → host-disk-full; else what failed. */
async function uploadError(s: SshSession, local: string, remote: string, e: unknown, o: UploadFor): Promise<LockstepError> {
  const full = await noRoomFor(s, remote, statSync(local).size, o, (e as Error).message);
  if (full) return full;
  if (e instanceof LockstepError) return e;
  const where = o.host ?? hostId(s.target);
  const dir = remote.replace(/\/[^/]*$/, '') || '/';
  return new LockstepError({
    code: 'upload-failed',
    message: `Copying ${remote} to ${where} failed: ${(e as Error).message}`,
    fix: `Check that ${where} answers SSH and can write ${dir}${o.again ? `, then: ${o.again}` : ', then run the same command again'}.`,
    host: hostId(s.target),
  });
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** Throws unless the host's `remote` has the SHA-256 `want` (an upload that a full disk truncated). */
export async function verifyUpload(s: SshSession, remote: string, want: string, again: string): Promise<void> {
  if ((await remoteSha256(s, remote)) !== want)
    throw new LockstepError({
      code: 'upload-corrupt',
      message: `${remote} on ${hostId(s.target)} does not match after upload.`,
      host: hostId(s.target),
      fix: `Check free space on the host (df -h /var/lib/lockstep), then ${again} again.`,
    });
}
