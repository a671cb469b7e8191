/** The kernel lab (user-mode Linux or QEMU hosts, real DRBD) as the lab and fault scenarios drive it. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabStatus } from '../../src-main/contract/index.js';
import { SshSession } from '../../src-main/hosts/ssh-session.js';
import { root } from './processes.js';

export type Up = Extract<LabStatus, { state: 'up' }>;
export type LabHost = Up['hosts'][number];

/**
 * A test fixture's own command (mounting, loop devices): not a command of the app, so not in the
 * inventory of host programs that SshSession enforces; it runs through `sh`, which is.
 */
export const fixtureArgv = (argv: string[]): string[] => ['sh', '-c', 'exec "$@"', 'sh', ...argv];

/** One SSH session per command, so no connection outlives a host that is killed. */
export async function onHost(lab: Up, h: LabHost, argv: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const s = await SshSession.connect({ address: h.address, port: h.port, user: 'root', keyFile: lab.keyFile, fingerprint: h.fingerprint });
  try {
    return await s.exec(argv, { timeoutMs });
  } finally {
    s.dispose();
  }
}

export async function mustOnHost(lab: Up, h: LabHost, argv: string[]): Promise<string> {
  const r = await onHost(lab, h, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} on ${h.name}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** sha256 of the first `bytes` of a block device, read past the page cache. */
export async function sha(lab: Up, h: LabHost, dev: string, bytes: number): Promise<string> {
  const out = await mustOnHost(lab, h, ['sh', '-c', 'dd if="$1" bs=1M count="$2" iflag=direct,count_bytes status=none | sha256sum', 'sh', dev, String(bytes)]);
  return out.trim().split(/\s+/)[0]!;
}

/** /proc/drbd's sync line of a host (`sync'ed: 12.3%`), or null when no sync runs. */
export async function syncPercent(lab: Up, h: LabHost): Promise<number | null> {
  const r = await onHost(lab, h, ['cat', '/proc/drbd']);
  const m = /sync'ed:\s*([\d.]+)%/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

export const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/** The empty data disk of a kernel host, as that host names it (/dev/ubda under UML, /dev/vda in a QEMU host). */
export function dataDisk(h: LabHost): string {
  if (!h.dataDisk) throw new Error(`${h.name} is not a kernel host (no data disk in lab status)`);
  return h.dataDisk;
}

/** Never leave kernels running: stop them by their state dirs when `lab down` failed (either kind). */
export function stopKernels(home: string, prefix: string, hosts: LabHost[]): void {
  for (const h of hosts)
    for (const kind of ['uml', 'vm'])
      spawnSync('bash', [join(root, `native/lab/${kind}/stop-host.sh`), '--state-dir', join(home, 'lab', prefix, h.name, kind), '--mode', 'kill'], {
        timeout: 30_000,
      });
}
