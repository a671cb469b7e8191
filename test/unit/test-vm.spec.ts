/** The test VM helper (issue 21): how QEMU boots it, and bad input refused before anything is built. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BUILD_SCRIPT, buildTestVm, testVmQemuArgs } from '../helpers/test-vm/test-vm.js';

const vm = { disk: '/srv/images/testvm.qcow2', run: '/srv/images/run', tap: 'tvm0', mac: '52:54:00:74:76:01', memoryKiB: 262152, accel: 'tcg' as const };

describe('testVmQemuArgs', () => {
  it('boots the VM from its own disk (no direct kernel boot), NIC as COLO needs it, serial and QMP on sockets', () => {
    const a = testVmQemuArgs(vm);
    expect(a).not.toContain('-kernel');
    expect(a).not.toContain('-initrd');
    expect(a.join(' ')).toContain('-drive file=/srv/images/testvm.qcow2,format=qcow2,if=none,id=disk0 -device virtio-blk-pci,drive=disk0,bootindex=1');
    expect(a).toContain('tap,id=hn0,ifname=tvm0,script=no,downscript=no,vhost=off,vnet_hdr=off');
    expect(a).toContain('virtio-net-pci,netdev=hn0,mac=52:54:00:74:76:01,romfile=');
    expect(a).toContain('socket,id=ser0,path=/srv/images/run/testvm-serial.sock,server=on,wait=off,logfile=/srv/images/run/testvm-serial.log');
    expect(a.slice(a.indexOf('-m'), a.indexOf('-m') + 2)).toEqual(['-m', '262152k']);
    expect(a.slice(a.indexOf('-accel'), a.indexOf('-accel') + 2)).toEqual(['-accel', 'tcg,tb-size=128']);
    expect(a.slice(-1)).toEqual(['-daemonize']);
  });

  it('refuses paths, taps and MACs that could carry shell or option syntax', () => {
    expect(() => testVmQemuArgs({ ...vm, disk: '/srv/x.qcow2,file=/etc/shadow' })).toThrow(/disk must be an absolute path/);
    expect(() => testVmQemuArgs({ ...vm, run: '/srv/../etc' })).toThrow(/run must be/);
    expect(() => testVmQemuArgs({ ...vm, tap: 'tap0;reboot' })).toThrow(/bad tap/);
    expect(() => testVmQemuArgs({ ...vm, mac: '52:54:00:74:76' })).toThrow(/bad MAC/);
    expect(() => testVmQemuArgs({ ...vm, memoryKiB: 1024 })).toThrow(/memoryKiB/);
  });
});

describe('build.sh and buildTestVm: bad input refused with the fix, nothing built', () => {
  it('the wrapper checks before it runs the script', () => {
    expect(() => buildTestVm('/tmp/x.qcow2', { address: '198.18.97.300', prefixLen: 24 })).toThrow(/A\.B\.C\.D/);
    expect(() => buildTestVm('/tmp/x;y.qcow2', { address: '198.18.97.50', prefixLen: 24 })).toThrow(/OUT must be/);
    expect(() => buildTestVm('/tmp/x.qcow2', { address: '198.18.97.50', prefixLen: 24, sizeGiB: 0 })).toThrow(/sizeGiB/);
  });

  it('the script names the right form of each argument', () => {
    const run = (...args: string[]) => spawnSync('bash', [BUILD_SCRIPT, ...args], { encoding: 'utf8' });
    for (const [args, msg] of [
      [['/tmp/lsv-unit.qcow2'], /--address must be A\.B\.C\.D\/PREFIX/],
      [['/tmp/lsv-unit.qcow2', '--address', '198.18.97.50/33'], /--address must be/],
      [['/tmp/lsv-unit.qcow2', '--address', '198.18.97.50/24', '--gateway', 'x'], /--gateway must be A\.B\.C\.D/],
      [['/tmp/lsv-unit.qcow2', '--address', '198.18.97.50/24', '--size', '512M'], /--size must be whole GiB/],
      [['relative.qcow2', '--address', '198.18.97.50/24'], /OUT must be an absolute path/],
      [['/tmp/lsv-unit.qcow2', '--bogus'], /unknown option --bogus/],
    ] as const) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
  });
});
