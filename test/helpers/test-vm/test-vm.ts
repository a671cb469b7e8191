/**
 * A VM the app did not make (issue 21): Debian 12 built from Debian's packages by `build.sh` beside
 * this file (debootstrap, systemd, stock Redis with appendfsync always, BIOS boot from its own disk
 * through syslinux, serial console on ttyS0, virtio disk and NIC, a static address), as qcow2,
 * cached under /var/cache/lockstep-test-vm. This wrapper builds (or takes from the cache) and says
 * how QEMU boots it the way a user's hypervisor would: from its disk, never a direct kernel boot.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BUILD_SCRIPT = fileURLToPath(new URL('./build.sh', import.meta.url));
/** Redis's port in the guest */
export const TEST_VM_PORT = 6379;

export interface TestVmBuild {
  /** the copy asked for (OUT) */
  path: string;
  /** the cache's copy it came from */
  cachedImage: string;
  /** true when nothing was built (the base and this address's image were in the cache) */
  cached: boolean;
  seconds: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+\.qcow2$/;

/** Builds the test VM's qcow2 into `out` (or copies it from the cache). Needs root. */
export function buildTestVm(out: string, o: { address: string; prefixLen: number; gateway?: string; sizeGiB?: number }): TestVmBuild {
  if (!SAFE_PATH.test(out) || out.includes('..')) throw new Error(`test VM: OUT must be an absolute .qcow2 path without '..': ${out}`);
  if (!IPV4.test(o.address) || !Number.isInteger(o.prefixLen) || o.prefixLen < 1 || o.prefixLen > 32)
    throw new Error(`test VM: address must be A.B.C.D with a prefix 1–32 (got ${o.address}/${o.prefixLen})`);
  if (o.gateway !== undefined && !IPV4.test(o.gateway)) throw new Error(`test VM: gateway must be A.B.C.D (got ${o.gateway})`);
  const size = o.sizeGiB ?? 2;
  if (!Number.isInteger(size) || size < 1) throw new Error(`test VM: sizeGiB must be a whole number ≥ 1 (got ${size})`);
  const args = [BUILD_SCRIPT, out, '--address', `${o.address}/${o.prefixLen}`, '--size', `${size}G`];
  if (o.gateway) args.push('--gateway', o.gateway);
  const t0 = performance.now();
  const r = spawnSync('bash', args, { encoding: 'utf8', timeout: 30 * 60_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`test VM build failed (exit ${r.status ?? r.signal}):\n${r.stderr.slice(-3000)}`);
  const cached = /^cached: (yes|no)$/m.exec(r.stdout)?.[1];
  const image = /^image: (\S+)$/m.exec(r.stdout)?.[1];
  if (!cached || !image) throw new Error(`test VM build said nothing usable: ${r.stdout}`);
  return { path: out, cachedImage: image, cached: cached === 'yes', seconds };
}

export interface TestVmRun {
  /** qcow2 on the host */
  disk: string;
  /** directory on the host for the sockets, pid file and serial log */
  run: string;
  tap: string;
  mac: string;
  /** guest RAM in KiB; under TCG keep it off a 256 KiB multiple (README "QEMU versions") */
  memoryKiB: number;
  accel: 'kvm' | 'tcg';
}

/** Where a run keeps its files on the host. */
export const runFiles = (run: string) => ({
  pid: `${run}/testvm.pid`,
  qmp: `${run}/testvm-qmp.sock`,
  serial: `${run}/testvm-serial.sock`,
  serialLog: `${run}/testvm-serial.log`,
  stderr: `${run}/testvm.stderr`,
});

/**
 * Pure: QEMU's argv for the test VM as a plain hypervisor would run it: SeaBIOS boots its own disk
 * (virtio-blk), virtio-net on a tap (no vhost, no vnet_hdr, no option ROM: what COLO's filters
 * need), the serial console logged to a file, a QMP socket, a standard VGA for a graphical console.
 */
export function testVmQemuArgs(v: TestVmRun): string[] {
  for (const [k, s] of [
    ['disk', v.disk],
    ['run', v.run],
  ] as const)
    if (!/^\/[A-Za-z0-9._/-]+$/.test(s) || s.includes('..')) throw new Error(`test VM: ${k} must be an absolute path of safe characters: ${s}`);
  if (!/^[A-Za-z0-9_-]{1,15}$/.test(v.tap)) throw new Error(`test VM: bad tap name ${v.tap}`);
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(v.mac)) throw new Error(`test VM: bad MAC ${v.mac}`);
  if (!Number.isInteger(v.memoryKiB) || v.memoryKiB < 65536) throw new Error(`test VM: memoryKiB must be ≥ 65536 (got ${v.memoryKiB})`);
  const f = runFiles(v.run);
  return [
    ...['-name', 'testvm', '-accel', v.accel === 'tcg' ? 'tcg,tb-size=128' : 'kvm', '-machine', 'pc', '-m', `${v.memoryKiB}k`, '-smp', '1'],
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'std'],
    ...['-drive', `file=${v.disk},format=qcow2,if=none,id=disk0`, '-device', 'virtio-blk-pci,drive=disk0,bootindex=1'],
    ...['-netdev', `tap,id=hn0,ifname=${v.tap},script=no,downscript=no,vhost=off,vnet_hdr=off`, '-device', `virtio-net-pci,netdev=hn0,mac=${v.mac},romfile=`],
    ...['-chardev', `socket,id=ser0,path=${f.serial},server=on,wait=off,logfile=${f.serialLog}`, '-serial', 'chardev:ser0'],
    ...['-chardev', `socket,id=qmp0,path=${f.qmp},server=on,wait=off`, '-mon', 'chardev=qmp0,mode=control'],
    ...['-pidfile', f.pid, '-daemonize'],
  ];
}
