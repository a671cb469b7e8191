import { vmPaths } from '../hosts/vm-layout.js';
import { displayArgs } from './vm-display.js';

/**
 * Pure: QEMU command lines of a COLO pair (QEMU 7.2 syntax, per native/qemu-tcg/COLO-RECIPE.md).
 * QEMU 10 replaced the chardev option `reconnect` (seconds) by `reconnect-ms`; chosen from `qemuMajor`.
 */
export interface VmSpec {
  role: 'primary' | 'secondary';
  accel: 'kvm' | 'tcg';
  qemuMajor: number;
  /** guest RAM, e.g. 131080k (TCG: must NOT be a multiple of 256 KiB) */
  memory: string;
  /** vCPUs (default 1) */
  cpus?: number;
  /** the demo guest: direct kernel boot; a user VM: SeaBIOS boots its own disk (`boot: 'disk'`) */
  boot: { kind: 'kernel'; kernel: string; initrd: string; append: string } | { kind: 'disk' };
  mac: string;
  tap: string;
  /** directory for sockets, pid, logs on the host */
  run: string;
  /** primary's / secondary's crossover addresses */
  xa: string;
  xb: string;
  /** primary: its raw image; secondary: parent raw image + active/hidden qcow2 overlays */
  disk: string;
  active?: string;
  hidden?: string;
}

/** The guest's disk device: a user VM boots from it (SeaBIOS), the demo guest's kernel comes from the host. */
const blkDevice = (s: VmSpec) => `virtio-blk-pci,drive=colo-disk0${s.boot.kind === 'disk' ? ',bootindex=1' : ''}`;

export const PORTS = { mirror: 9003, compare: 9004, compareLoop: 9001, compareOut: 9005, migration: 9998, nbd: 9999 } as const;

function common(s: VmSpec): string[] {
  const p = vmPaths(s.run, s.role);
  return [
    ...['-name', `lockstep-${s.role}`, '-accel', s.accel === 'tcg' ? 'tcg,tb-size=128' : 'kvm', '-m', s.memory, '-smp', String(s.cpus ?? 1)],
    ...['-nodefaults', '-no-user-config', '-display', 'none', ...displayArgs(s.boot.kind, p.vnc)],
    ...(s.boot.kind === 'kernel' ? ['-kernel', s.boot.kernel, '-initrd', s.boot.initrd, '-append', s.boot.append] : []),
    ...['-chardev', `socket,id=ser0,path=${p.serial},server=on,wait=off,logfile=${p.serialLog}`, '-serial', 'chardev:ser0'],
    ...['-chardev', `socket,id=qmp0,path=${p.qmp},server=on,wait=off`, '-mon', 'chardev=qmp0,mode=control'],
    ...['-chardev', `socket,id=qmp1,path=${p.qmpOob},server=on,wait=off`, '-mon', 'chardev=qmp1,mode=control'],
    ...['-netdev', `tap,id=hn0,ifname=${s.tap},script=no,downscript=no,vhost=off,vnet_hdr=off`, '-device', `virtio-net-pci,netdev=hn0,mac=${s.mac},romfile=`],
    ...['-msg', 'timestamp=on', '-trace', 'enable=colo_*', '-D', p.trace, '-pidfile', p.pid],
  ];
}

/**
 * colo-compare's hold on an output the secondary has not matched, and its scan cycle: QEMU's own
 * defaults (3000 / 1000 ms). 250 / 50 was tried (issue 18: fewer 1 s stalls of a new connection,
 * but more short ones, and two A/Bs disagreed); it also hid a stalled secondary from protect's
 * serving check (answers left after 250 ms, too little traffic to judge), so it is not used until
 * that check makes its own traffic and the A/B is settled.
 */
export const COMPARE_TUNING = { compare_timeout: 3000, expired_scan_cycle: 1000 } as const;

export function secondaryArgs(s: VmSpec): string[] {
  const reconnect = s.qemuMajor >= 10 ? 'reconnect-ms=1000' : 'reconnect=1';
  return [
    ...common(s),
    ...[
      '-chardev',
      `socket,id=red0,host=${s.xa},port=${PORTS.mirror},${reconnect}`,
      '-chardev',
      `socket,id=red1,host=${s.xa},port=${PORTS.compare},${reconnect}`,
    ],
    ...['-object', 'filter-redirector,id=f1,netdev=hn0,queue=tx,indev=red0', '-object', 'filter-redirector,id=f2,netdev=hn0,queue=rx,outdev=red1'],
    ...['-object', 'filter-rewriter,id=rew0,netdev=hn0,queue=all'],
    ...['-drive', `if=none,id=parent0,driver=raw,file.filename=${s.disk}`],
    '-drive',
    `if=none,id=childs0,driver=replication,mode=secondary,top-id=colo-disk0,file.driver=qcow2,file.file.filename=${s.active},file.backing.driver=qcow2,file.backing.file.filename=${s.hidden},file.backing.backing=parent0`,
    ...['-drive', 'if=none,id=colo-disk0,driver=quorum,read-pattern=fifo,vote-threshold=1,children.0=childs0', '-device', blkDevice(s)],
    ...['-incoming', 'defer'],
  ];
}

export function primaryArgs(s: VmSpec): string[] {
  return [
    ...common(s),
    ...['-chardev', `socket,id=mirror0,host=${s.xa},port=${PORTS.mirror},server=on,wait=off`],
    ...['-chardev', `socket,id=compare1,host=${s.xa},port=${PORTS.compare},server=on,wait=off`],
    ...[
      '-chardev',
      `socket,id=compare0,host=127.0.0.1,port=${PORTS.compareLoop},server=on,wait=off`,
      '-chardev',
      `socket,id=compare0-0,host=127.0.0.1,port=${PORTS.compareLoop}`,
    ],
    ...[
      '-chardev',
      `socket,id=compare_out,host=127.0.0.1,port=${PORTS.compareOut},server=on,wait=off`,
      '-chardev',
      `socket,id=compare_out0,host=127.0.0.1,port=${PORTS.compareOut}`,
    ],
    ...['-object', 'filter-mirror,id=m0,netdev=hn0,queue=tx,outdev=mirror0'],
    ...[
      '-object',
      'filter-redirector,id=redire0,netdev=hn0,queue=rx,indev=compare_out',
      '-object',
      'filter-redirector,id=redire1,netdev=hn0,queue=rx,outdev=compare0',
    ],
    ...[
      '-object',
      'iothread,id=iothread1',
      '-object',
      `colo-compare,id=comp0,primary_in=compare0-0,secondary_in=compare1,outdev=compare_out0,iothread=iothread1,compare_timeout=${COMPARE_TUNING.compare_timeout},expired_scan_cycle=${COMPARE_TUNING.expired_scan_cycle}`,
    ],
    ...['-drive', `if=none,id=colo-disk0,driver=quorum,read-pattern=fifo,vote-threshold=1,children.0.driver=raw,children.0.file.filename=${s.disk}`],
    ...['-device', blkDevice(s), '-S'],
  ];
}

/** Checkpoint count and pauses from QEMU's `-trace colo_* -D` log (needs `-msg timestamp=on`). */
export function parseCheckpoints(trace: string): { checkpoints: number; pausesMs: number[]; times: number[] } {
  const times: number[] = [];
  const pausesMs: number[] = [];
  let start: number | null = null;
  for (const line of trace.split('\n')) {
    const m = /^\d+@(\d+\.\d+):colo_(?:send|receive)_message (?:Send|Receive) '([a-z-]+)'/.exec(line);
    if (!m) continue;
    const t = Number(m[1]) * 1000;
    if (m[2] === 'checkpoint-request') {
      start = t;
      times.push(t);
    } else if (m[2] === 'vmstate-loaded' && start !== null) {
      pausesMs.push(t - start);
      start = null;
    }
  }
  return { checkpoints: times.length, pausesMs, times };
}
