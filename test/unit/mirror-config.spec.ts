import { describe, expect, it } from 'vitest';
import { LockstepError } from '../../src-main/contract/errors.js';
import * as drbd from '../../src-main/mirror/drbd-commands.js';
import { renderResource, resyncRateFor, validateResourceSpec, type ResourceSpec } from '../../src-main/mirror/res-config.js';

const spec = (over: Partial<ResourceSpec> = {}): ResourceSpec => ({
  name: 'r0',
  minor: 0,
  linkMiBps: 125,
  hosts: [
    { name: 'hostA', address: '10.99.0.1', disk: '/dev/vdb' },
    { name: 'hostB', address: '10.99.0.2', disk: '/dev/vdb' },
  ],
  ...over,
});
const withHost = (i: 0 | 1, h: Partial<ResourceSpec['hosts'][0]>): ResourceSpec => {
  const hosts = [...spec().hosts] as [ResourceSpec['hosts'][0], ResourceSpec['hosts'][0]];
  hosts[i] = { ...hosts[i], ...h };
  return spec({ hosts });
};

function refusal(f: () => unknown): LockstepError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LockstepError);
    const err = e as LockstepError;
    expect(err.fix, `${err.code} names a fix`).toMatch(/\w/);
    return err;
  }
  throw new Error('expected a LockstepError');
}

describe('resync rate', () => {
  it('is 90 % of the measured link, in KiB/s with an explicit unit', () => {
    expect(resyncRateFor(125)).toEqual({ kiBps: 115200, text: '115200K' });
    expect(resyncRateFor(1000 / 8)).toEqual({ kiBps: 115200, text: '115200K' }); // gigabit
    expect(resyncRateFor(37.3).kiBps).toBe(Math.floor(37.3 * 1024 * 0.9));
  });

  it('is clamped to [1 MiB/s, DRBD maximum 4 GiB/s]', () => {
    expect(resyncRateFor(0.2)).toEqual({ kiBps: 1024, text: '1024K' });
    expect(resyncRateFor(100_000)).toEqual({ kiBps: 4194304, text: '4194304K' });
  });

  it('refuses a link that was not measured', () => {
    for (const bad of [0, -5, NaN, Infinity]) expect(refusal(() => resyncRateFor(bad)).code).toBe('bad-link-speed');
  });
});

describe('resource configuration', () => {
  it('8.4: device, internal metadata, per-host disk and address, tuning from the field note, no node-id', () => {
    const text = renderResource(spec(), '8.4');
    expect(text).toContain('resource r0 {');
    expect(text).toContain('device /dev/drbd0 minor 0;');
    expect(text).toContain('meta-disk internal;');
    expect(text).toMatch(/disk \{\n\s+c-plan-ahead 0;\n\s+resync-rate 115200K;\n\s+\}/);
    for (const l of ['protocol C;', 'verify-alg crc32c;', 'ping-int 3;', 'max-buffers 8000;', 'max-epoch-size 8000;', 'sndbuf-size 0;', 'rcvbuf-size 0;']) {
      expect(text).toContain(l);
    }
    expect(text).toMatch(/on hostA \{\n\s+disk "\/dev\/vdb";\n\s+address 10\.99\.0\.1:7789;\n\s+\}/);
    expect(text).toMatch(/on hostB \{\n\s+disk "\/dev\/vdb";\n\s+address 10\.99\.0\.2:7789;\n\s+\}/);
    expect(text).not.toContain('node-id');
    expect(text).not.toContain('auto-promote');
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('never resolves split brain automatically', () => {
    for (const f of ['8.4', '9'] as const) {
      const text = renderResource(spec(), f);
      for (const p of ['after-sb-0pri', 'after-sb-1pri', 'after-sb-2pri', 'rr-conflict']) expect(text).toContain(`${p} disconnect;`);
      expect(text).not.toMatch(/discard-(younger|older|least|zero|secondary|node)|call-pri-lost|violently|allow-two-primaries/);
    }
  });

  it('9: node-ids in host order, auto-promote off', () => {
    const text = renderResource(spec(), '9');
    expect(text).toMatch(/on hostA \{\n\s+node-id 0;/);
    expect(text).toMatch(/on hostB \{\n\s+node-id 1;/);
    expect(text).toMatch(/options \{\n\s+auto-promote no;\n\s+\}/);
  });

  it('per-host disks and ports, ping-int and minor are honoured', () => {
    const s = spec({
      minor: 7,
      port: 7790,
      pingIntSeconds: 5,
      hosts: [spec().hosts[0], { name: 'hostB', address: '10.99.0.2', disk: '/dev/sdb', port: 7791 }],
    });
    const text = renderResource(s, '8.4');
    expect(text).toContain('device /dev/drbd7 minor 7;');
    expect(text).toContain('address 10.99.0.1:7790;');
    expect(text).toContain('disk "/dev/sdb";');
    expect(text).toContain('address 10.99.0.2:7791;');
    expect(text).toContain('ping-int 5;');
    expect(validateResourceSpec(s).device).toBe('/dev/drbd7');
  });

  it('accepts the names real hosts have', () => {
    const ok = withHost(0, { name: 'kvm-01.lab.example', disk: '/dev/disk/by-path/pci-0000:00:05.0' });
    expect(renderResource(ok, '9')).toContain('on kvm-01.lab.example {');
    expect(renderResource(spec({ name: 'vm_disk-2' }), '8.4')).toContain('resource vm_disk-2 {');
    expect(renderResource(withHost(1, { disk: '/dev/mapper/vg0-lv_data' }), '8.4')).toContain('disk "/dev/mapper/vg0-lv_data";');
  });

  it.each([
    ['resource name with a space', spec({ name: 'r 0' }), 'bad-resource-name'],
    ['resource name with a semicolon', spec({ name: 'r0;rm' }), 'bad-resource-name'],
    ['resource name that looks like an option', spec({ name: '-d' }), 'bad-resource-name'],
    ['resource name "all"', spec({ name: 'all' }), 'bad-resource-name'],
    ['empty resource name', spec({ name: '' }), 'bad-resource-name'],
    ['resource name with a brace', spec({ name: 'r0}' }), 'bad-resource-name'],
    ['negative minor', spec({ minor: -1 }), 'bad-minor'],
    ['fractional minor', spec({ minor: 1.5 }), 'bad-minor'],
    ['port 0', spec({ port: 0 }), 'bad-port'],
    ['port 70000', spec({ port: 70000 }), 'bad-port'],
    ['per-host port as string', withHost(0, { port: '7789' as unknown as number }), 'bad-port'],
    ['disk outside /dev', withHost(0, { disk: '/tmp/disk.img' }), 'bad-device-path'],
    ['disk with a space', withHost(0, { disk: '/dev/my disk' }), 'bad-device-path'],
    ['disk with a quote', withHost(0, { disk: '/dev/vdb"; }' }), 'bad-device-path'],
    ['disk with ..', withHost(0, { disk: '/dev/../etc/passwd' }), 'bad-device-path'],
    ['disk with a newline', withHost(1, { disk: '/dev/vdb\n' }), 'bad-device-path'],
    ['bare /dev/', withHost(1, { disk: '/dev/' }), 'bad-device-path'],
    ['IPv6 address', withHost(0, { address: 'fe80::1' }), 'bad-address'],
    ['octet > 255', withHost(0, { address: '10.99.0.256' }), 'bad-address'],
    ['leading zero', withHost(0, { address: '10.99.0.01' }), 'bad-address'],
    ['host name instead of IP', withHost(0, { address: 'hostA' }), 'bad-address'],
    ['loopback', withHost(0, { address: '127.0.0.1' }), 'bad-address'],
    ['0.0.0.0', withHost(0, { address: '0.0.0.0' }), 'bad-address'],
    ['multicast', withHost(0, { address: '239.1.1.1' }), 'bad-address'],
    ['host name with a space', withHost(1, { name: 'host B' }), 'bad-host-name'],
    ['host name with a brace', withHost(1, { name: 'hostB{' }), 'bad-host-name'],
    ['same host twice', withHost(1, { name: 'hostA' }), 'bad-hosts'],
    ['same address twice', withHost(1, { address: '10.99.0.1' }), 'bad-hosts'],
    ['one host', spec({ hosts: [spec().hosts[0]] as unknown as ResourceSpec['hosts'] }), 'bad-hosts'],
    ['ping-int 0', spec({ pingIntSeconds: 0 }), 'bad-ping-int'],
    ['no link speed', spec({ linkMiBps: 0 }), 'bad-link-speed'],
  ])('refuses %s, naming the fix', (_what, s, code) => {
    const err = refusal(() => renderResource(s, '8.4'));
    expect(err.code).toBe(code);
    expect(err.toDTO()).toMatchObject({ code, step: 'mirror-config' });
  });

  it('refuses an unknown flavour', () => {
    expect(refusal(() => renderResource(spec(), '8.3' as '8.4')).code).toBe('bad-flavour');
  });
});

describe('drbd commands', () => {
  it('lifecycle argv', () => {
    expect(drbd.modprobeDrbd()).toEqual(['modprobe', 'drbd']);
    expect(drbd.createMd('r0')).toEqual(['drbdadm', 'create-md', 'r0']);
    expect(drbd.createMd('r0', { force: true })).toEqual(['drbdadm', 'create-md', '--force', 'r0']);
    expect(drbd.up('r0')).toEqual(['drbdadm', 'up', 'r0']);
    expect(drbd.down('r0')).toEqual(['drbdadm', 'down', 'r0']);
    expect(drbd.primary('r0')).toEqual(['drbdadm', 'primary', 'r0']);
    expect(drbd.primary('r0', { force: true })).toEqual(['drbdadm', 'primary', '--force', 'r0']);
    expect(drbd.secondary('r0')).toEqual(['drbdadm', 'secondary', 'r0']);
    expect(drbd.connect('r0')).toEqual(['drbdadm', 'connect', 'r0']);
    expect(drbd.connect('r0', { discardMyData: true })).toEqual(['drbdadm', 'connect', '--discard-my-data', 'r0']);
    expect(drbd.disconnect('r0')).toEqual(['drbdadm', 'disconnect', 'r0']);
    expect(drbd.newCurrentUuidClearBitmap('r0')).toEqual(['drbdadm', 'new-current-uuid', '--clear-bitmap', 'r0']);
    expect(drbd.verify('r0')).toEqual(['drbdadm', 'verify', 'r0']);
    expect(drbd.adjust('r0')).toEqual(['drbdadm', 'adjust', 'r0']);
    expect(drbd.cstate('r0')).toEqual(['drbdadm', 'cstate', 'r0']);
    expect(drbd.dstate('r0')).toEqual(['drbdadm', 'dstate', 'r0']);
    expect(drbd.role('r0')).toEqual(['drbdadm', 'role', 'r0']);
    expect(drbd.status('r0')).toEqual(['drbdadm', 'status', 'r0']);
    expect(drbd.status('r0', { statistics: true })).toEqual(['drbdadm', 'status', '--statistics', 'r0']);
    expect(drbd.events2Now('r0')).toEqual(['drbdsetup', 'events2', '--now', '--statistics', 'r0']);
    expect(drbd.dump('r0', { configFile: '/etc/drbd.d/r0.res.new' })).toEqual(['drbdadm', '-c', '/etc/drbd.d/r0.res.new', 'dump', 'r0']);
    expect(drbd.up('r0', { configFile: '/tmp/x.res', dryRun: true })).toEqual(['drbdadm', '-c', '/tmp/x.res', '-d', 'up', 'r0']);
  });

  it('force flags only on an explicit true', () => {
    expect(drbd.createMd('r0', { force: 'yes' as unknown as boolean })).not.toContain('--force');
    expect(drbd.primary('r0', {})).not.toContain('--force');
    expect(drbd.connect('r0', { discardMyData: 1 as unknown as boolean })).not.toContain('--discard-my-data');
  });

  it('refuses resource names that would be options, "all", or shell text', () => {
    for (const name of ['-d', '--force', 'all', 'r0 r1', 'r0;reboot', '$(id)', '']) {
      expect(refusal(() => drbd.up(name)).code).toBe('bad-resource-name');
      expect(refusal(() => drbd.events2Now(name)).code).toBe('bad-resource-name');
    }
    expect(refusal(() => drbd.dump('r0', { configFile: 'relative.res' })).code).toBe('bad-argument');
    expect(refusal(() => drbd.dump('r0', { configFile: '/etc/drbd.d/../x' })).code).toBe('bad-argument');
  });

  it('every argument is a plain word (nothing for a shell to interpret)', () => {
    const all = [
      drbd.createMd('r_0-x', { force: true }),
      drbd.connect('r_0-x', { discardMyData: true }),
      ...drbd.configWritePlan('r_0-x', renderResource(spec({ name: 'r_0-x' }), '9')).steps.map((s) => s.argv),
    ];
    for (const argv of all) for (const a of argv) expect(a).toMatch(/^[A-Za-z0-9._:/=-]+$/);
  });

  it('safe-write plan: temp file from stdin, validate, sync, rename, sync the directory', () => {
    const text = renderResource(spec(), '8.4');
    const plan = drbd.configWritePlan('r0', text);
    expect(plan.tempPath).toBe('/etc/drbd.d/r0.res.new');
    expect(plan.finalPath).toBe('/etc/drbd.d/r0.res');
    expect(plan.steps.map((s) => s.argv)).toEqual([
      ['mkdir', '-p', '/etc/drbd.d'],
      ['dd', 'of=/etc/drbd.d/r0.res.new', 'status=none'],
      ['chmod', '0644', '/etc/drbd.d/r0.res.new'],
      ['drbdadm', '-c', '/etc/drbd.d/r0.res.new', 'dump', 'r0'],
      ['sync', '/etc/drbd.d/r0.res.new'],
      ['mv', '-f', '/etc/drbd.d/r0.res.new', '/etc/drbd.d/r0.res'],
      ['sync', '/etc/drbd.d'],
    ]);
    expect(plan.steps[1]!.stdin).toBe(text);
    expect(plan.steps.filter((s) => s.stdin !== undefined && s.stdin !== '')).toHaveLength(1);
    for (const s of plan.steps) expect(s.argv.join(' ')).not.toContain('resource r0');
    expect(plan.onFailure.map((s) => s.argv)).toEqual([['rm', '-f', '/etc/drbd.d/r0.res.new']]);
  });

  it('safe-write plan refuses content that is empty, binary, or for another resource', () => {
    const text = renderResource(spec(), '8.4');
    expect(refusal(() => drbd.configWritePlan('r0', '')).code).toBe('bad-argument');
    expect(refusal(() => drbd.configWritePlan('r0', text + '\0')).code).toBe('bad-argument');
    expect(refusal(() => drbd.configWritePlan('r0', text.trimEnd())).code).toBe('bad-argument');
    expect(refusal(() => drbd.configWritePlan('r1', text)).code).toBe('bad-argument');
    expect(refusal(() => drbd.configWritePlan('r0', text, 'etc/drbd.d')).code).toBe('bad-argument');
  });
});
