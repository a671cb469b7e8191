/**
 * The generated configuration and commands, checked by the real drbd-utils (installed by
 * .ci/setup) without a kernel module: __DRBD_NODE__ pretends to be a host,
 * DRBD_DRIVER_VERSION_OVERRIDE picks the 8.4 or 9 tools, `-d` prints instead of running.
 * In this mode drbdadm touches neither /var/lib/drbd nor /var/lock (checked with strace).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as drbd from '../../src-main/mirror/drbd-commands.js';
import { renderResource, type ResourceSpec } from '../../src-main/mirror/res-config.js';

const V84 = '8.4.11';
const V9 = '9.2.12';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-mirror-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec: ResourceSpec = {
  name: 'r0',
  minor: 0,
  linkMiBps: 125,
  hosts: [
    { name: 'hostA', address: '10.99.0.1', disk: '/dev/vdb' },
    { name: 'hostB', address: '10.99.0.2', disk: '/dev/vdb' },
  ],
};

let n = 0;
function writeConf(text: string): string {
  const file = join(dir, `c${n++}.res`);
  writeFileSync(file, text);
  return file;
}

/** Runs argv (from drbd-commands) as host `node` with the given kernel version. */
function run(argv: string[], node: string, driver: string, stdin = '') {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, {
    input: stdin,
    encoding: 'utf8',
    env: { ...process.env, __DRBD_NODE__: node, DRBD_DRIVER_VERSION_OVERRIDE: driver, LANG: 'C' },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** drbdadm -d CMD: the drbdsetup/drbdmeta lines it would run. */
function dry(build: (o: drbd.DrbdadmOptions) => string[], file: string, driver: string, node = 'hostA'): string {
  const r = run(build({ configFile: file, dryRun: true }), node, driver);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('drbdadm accepts the generated configuration', () => {
  it.each([
    ['8.4', V84],
    ['9', V9],
  ] as const)('%s: dump exits 0 on both hosts and keeps every setting', (flavour, driver) => {
    const file = writeConf(renderResource(spec, flavour));
    for (const host of ['hostA', 'hostB']) {
      const r = run(drbd.dump('r0', { configFile: file }), host, driver);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`# resource r0 on ${host}: not ignored, not stacked`);
      for (const re of [
        /protocol\s+C;/,
        /verify-alg\s+crc32c;/,
        /ping-int\s+3;/,
        /max-buffers\s+8000;/,
        /max-epoch-size\s+8000;/,
        /sndbuf-size\s+0;/,
        /rcvbuf-size\s+0;/,
        /after-sb-0pri\s+disconnect;/,
        /after-sb-1pri\s+disconnect;/,
        /after-sb-2pri\s+disconnect;/,
        /rr-conflict\s+disconnect;/,
        /c-plan-ahead\s+0;/,
        /resync-rate\s+115200K;/,
        /address\s+ipv4 10\.99\.0\.1:7789;/,
        /address\s+ipv4 10\.99\.0\.2:7789;/,
        /disk\s+\/dev\/vdb;/,
        /meta-disk\s+internal;/,
      ]) {
        expect(r.stdout).toMatch(re);
      }
      if (flavour === '9') {
        expect(r.stdout).toMatch(/node-id 0;[\s\S]*node-id 1;/);
        expect(r.stdout).toMatch(/auto-promote\s+no;/);
      }
    }
  });

  it('accepts unusual but valid names, paths and ports', () => {
    const odd: ResourceSpec = {
      name: 'vm_disk-2',
      minor: 12,
      port: 7800,
      linkMiBps: 0.1,
      pingIntSeconds: 10,
      hosts: [
        { name: 'kvm-01.lab.example', address: '192.168.50.1', disk: '/dev/disk/by-path/pci-0000:00:05.0', port: 7801 },
        { name: 'kvm-02', address: '192.168.50.2', disk: '/dev/mapper/vg0-lv_data' },
      ],
    };
    for (const [flavour, driver] of [
      ['8.4', V84],
      ['9', V9],
    ] as const) {
      const file = writeConf(renderResource(odd, flavour));
      const r = run(drbd.dump('vm_disk-2', { configFile: file }), 'kvm-01.lab.example', driver);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('"/dev/disk/by-path/pci-0000:00:05.0"');
      expect(r.stdout).toMatch(/device\s+\/dev\/drbd12 minor 12;/);
      expect(r.stdout).toMatch(/resync-rate\s+1024K;/);
    }
  });

  it('syntax error → exit 10; host not in the file → exit 1', () => {
    const broken = writeConf(renderResource(spec, '8.4').replace('protocol C;', 'protocol C'));
    expect(run(drbd.dump('r0', { configFile: broken }), 'hostA', V84).status).toBe(10);
    const good = writeConf(renderResource(spec, '8.4'));
    const stranger = run(drbd.dump('r0', { configFile: good }), 'hostC', V84);
    expect(stranger.status).toBe(1);
    expect(stranger.stderr).toContain("'r0' not defined in your config (for this host)");
  });
});

describe('drbdadm -d: the exact kernel commands (DRBD 8.4 tools)', () => {
  const file = writeConf(renderResource(spec, '8.4'));

  it('up: attach with the fixed resync rate, connect with the net options', () => {
    expect(dry((o) => drbd.up('r0', o), file, V84)).toBe(
      [
        'drbdsetup-84 new-resource r0',
        'drbdsetup-84 new-minor r0 0 0',
        'drbdmeta 0 v08 /dev/vdb internal apply-al',
        'drbdsetup-84 attach 0 /dev/vdb /dev/vdb internal --resync-rate=115200K --c-plan-ahead=0',
        'drbdsetup-84 connect r0 ipv4:10.99.0.1:7789 ipv4:10.99.0.2:7789 --protocol=C --verify-alg=crc32c --csums-alg=crc32c --ping-int=3 --timeout=20 --ko-count=2 --max-buffers=8000 --max-epoch-size=8000 --sndbuf-size=0 --rcvbuf-size=0 --after-sb-0pri=disconnect --after-sb-1pri=disconnect --after-sb-2pri=disconnect --rr-conflict=disconnect',
      ].join('\n'),
    );
  });

  it('up from the other host swaps the addresses', () => {
    expect(dry((o) => drbd.up('r0', o), file, V84, 'hostB')).toContain('drbdsetup-84 connect r0 ipv4:10.99.0.2:7789 ipv4:10.99.0.1:7789');
  });

  it('create-md: v08 metadata (v09 would be wrong for an 8.4 kernel)', () => {
    expect(dry((o) => drbd.createMd('r0', o), file, V84)).toBe('drbdmeta 0 v08 /dev/vdb internal create-md');
    expect(dry((o) => drbd.createMd('r0', { ...o, force: true }), file, V84)).toBe('drbdmeta 0 v08 /dev/vdb internal create-md --force');
  });

  it('adjust on a resource that is not up brings it up', () => {
    // note: `drbdadm -d adjust` runs `drbdsetup show` for real, which tries `modprobe drbd`
    expect(dry((o) => drbd.adjust('r0', o), file, V84)).toBe(dry((o) => drbd.up('r0', o), file, V84));
  });

  it('split-brain victim, blank-disk shortcut, promotion, verify, stop', () => {
    expect(dry((o) => drbd.connect('r0', { ...o, discardMyData: true }), file, V84)).toBe(
      'drbdsetup-84 connect r0 ipv4:10.99.0.1:7789 ipv4:10.99.0.2:7789 --protocol=C --verify-alg=crc32c --csums-alg=crc32c --ping-int=3 --timeout=20 --ko-count=2 --max-buffers=8000 --max-epoch-size=8000 --sndbuf-size=0 --rcvbuf-size=0 --after-sb-0pri=disconnect --after-sb-1pri=disconnect --after-sb-2pri=disconnect --rr-conflict=disconnect --discard-my-data',
    );
    expect(dry((o) => drbd.newCurrentUuidClearBitmap('r0', o), file, V84)).toBe('drbdsetup-84 new-current-uuid 0 --clear-bitmap');
    expect(dry((o) => drbd.primary('r0', { ...o, force: true }), file, V84)).toBe('drbdsetup-84 primary 0 --force');
    expect(dry((o) => drbd.primary('r0', o), file, V84)).toBe('drbdsetup-84 primary 0');
    expect(dry((o) => drbd.secondary('r0', o), file, V84)).toBe('drbdsetup-84 secondary 0');
    expect(dry((o) => drbd.disconnect('r0', o), file, V84)).toBe('drbdsetup-84 disconnect ipv4:10.99.0.1:7789 ipv4:10.99.0.2:7789');
    expect(dry((o) => drbd.verify('r0', o), file, V84)).toBe('drbdsetup-84 verify 0');
    expect(dry((o) => drbd.down('r0', o), file, V84)).toBe('drbdsetup-84 down r0');
    expect(dry((o) => drbd.cstate('r0', o), file, V84)).toBe('drbdsetup-84 cstate 0');
    expect(dry((o) => drbd.role('r0', o), file, V84)).toBe('drbdsetup-84 role 0');
    expect(dry((o) => drbd.status('r0', o), file, V84)).toBe('drbdsetup-84 status r0');
  });
});

describe('drbdadm -d: the exact kernel commands (DRBD 9 tools)', () => {
  const file = writeConf(renderResource(spec, '9'));

  it('up: node-id, peer with the net options, peer-device resync rate, v09 metadata', () => {
    expect(dry((o) => drbd.up('r0', o), file, V9)).toBe(
      [
        'drbdsetup new-resource r0 0 --auto-promote=no',
        'drbdsetup new-minor r0 0 0',
        'drbdsetup new-peer r0 1 --_name=hostB --rr-conflict=disconnect --after-sb-2pri=disconnect --after-sb-1pri=disconnect --after-sb-0pri=disconnect --rcvbuf-size=0 --sndbuf-size=0 --max-epoch-size=8000 --max-buffers=8000 --ko-count=2 --timeout=20 --ping-int=3 --csums-alg=crc32c --verify-alg=crc32c --protocol=C',
        'drbdsetup new-path r0 1 ipv4:10.99.0.1:7789 ipv4:10.99.0.2:7789',
        'drbdsetup peer-device-options r0 1 0 --c-plan-ahead=0 --resync-rate=115200K',
        'drbdmeta 0 v09 /dev/vdb internal apply-al',
        'drbdsetup attach 0 /dev/vdb /dev/vdb internal',
        'drbdsetup connect r0 1',
      ].join('\n'),
    );
  });

  it('create-md, connect --discard-my-data, new-current-uuid --clear-bitmap, primary --force', () => {
    expect(dry((o) => drbd.createMd('r0', { ...o, force: true }), file, V9)).toBe('drbdmeta 0 v09 /dev/vdb internal create-md 1 --force');
    expect(dry((o) => drbd.connect('r0', { ...o, discardMyData: true }), file, V9)).toBe('drbdsetup connect r0 1 --discard-my-data');
    expect(dry((o) => drbd.newCurrentUuidClearBitmap('r0', o), file, V9)).toBe('drbdsetup new-current-uuid 0 --clear-bitmap');
    expect(dry((o) => drbd.primary('r0', { ...o, force: true }), file, V9)).toBe('drbdsetup primary r0 --force');
    expect(dry((o) => drbd.verify('r0', o), file, V9)).toBe('drbdsetup verify r0 1 0');
    expect(dry((o) => drbd.down('r0', o), file, V9)).toBe('drbdsetup down r0');
  });

  it('adjust on a resource that is not up: the same as up, resync options set from defaults', () => {
    const adjust = dry((o) => drbd.adjust('r0', o), file, V9);
    expect(adjust).toContain('drbdsetup peer-device-options r0 1 0 --set-defaults --c-plan-ahead=0 --resync-rate=115200K');
    expect(adjust.replace(' --set-defaults', '')).toBe(dry((o) => drbd.up('r0', o), file, V9));
  });
});

describe('safe-write plan, run for real into a temp directory', () => {
  it('installs a validated file atomically', () => {
    const target = join(dir, 'drbd.d');
    const text = renderResource(spec, '8.4');
    const plan = drbd.configWritePlan('r0', text, target);
    for (const step of plan.steps) {
      const r = run(step.argv, 'hostA', V84, step.stdin ?? '');
      expect(r.status, `${step.argv.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(readFileSync(plan.finalPath, 'utf8')).toBe(text);
    expect(statSync(plan.finalPath).mode & 0o777).toBe(0o644);
    expect(existsSync(plan.tempPath)).toBe(false);
  });

  it('stops at validation when the file is for another host, leaving the old file alone', () => {
    const target = join(dir, 'drbd2.d');
    const good = drbd.configWritePlan('r0', renderResource(spec, '8.4'), target);
    for (const step of good.steps) expect(run(step.argv, 'hostA', V84, step.stdin ?? '').status).toBe(0);
    const other = renderResource({ ...spec, linkMiBps: 10 }, '8.4');
    const plan = drbd.configWritePlan('r0', other, target);
    let failedAt = -1;
    for (const [i, step] of plan.steps.entries()) {
      if (run(step.argv, 'hostC', V84, step.stdin ?? '').status !== 0) {
        failedAt = i;
        break;
      }
    }
    expect(plan.steps[failedAt]!.argv).toEqual(drbd.dump('r0', { configFile: plan.tempPath }));
    for (const step of plan.onFailure) run(step.argv, 'hostC', V84);
    expect(existsSync(plan.tempPath)).toBe(false);
    expect(readFileSync(good.finalPath, 'utf8')).toContain('resync-rate 115200K;');
  });
});
