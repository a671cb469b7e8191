/**
 * Pure: where a guest VM's files live on a host of the pair — facts about a host's layout, shared
 * by lockstep (which starts the VMs) and the host agents (whose colo-failover acts on them).
 */

/** Fixed places on every host (private per host in the virtual lab). */
export const HOST_PATHS = {
  lib: '/var/lib/lockstep/guest',
  run: '/run/lockstep/vm',
  shim: '/var/lib/lockstep/lib/libcolo-tcg-shim.so',
  tap: 'lsvm0',
  bridge: 'br0',
} as const;

/**
 * Which QEMU file set (pid, QMP, serial under HOST_PATHS.run) a VM uses: a VM started as the
 * secondary keeps the 'secondary' set after a failover made it the primary.
 */
export type VmFiles = 'primary' | 'secondary';

/** The files of one VM's file set under `run` (normally HOST_PATHS.run). */
export const vmPaths = (run: string, files: VmFiles) => ({
  qmp: `${run}/${files}-qmp.sock`,
  qmpOob: `${run}/${files}-qmp-oob.sock`,
  serial: `${run}/${files}-serial.sock`,
  /** QEMU's VNC server of a user VM (a unix socket: only the host itself reaches it) */
  vnc: `${run}/${files}-vnc.sock`,
  serialLog: `${run}/${files}-serial.log`,
  trace: `${run}/${files}-trace.log`,
  pid: `${run}/${files}.pid`,
  stderr: `${run}/${files}.stderr`,
});
