import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkEnds, planSubnet } from '../../src-main/link/addressing.js';
import { tolerated } from '../../src-main/hosts/command.js';
import {
  MARKER,
  choosePersistence,
  existingFileAction,
  ifupdownFile,
  linkRecord,
  networkdFile,
  nmKeyfile,
  nmUuid,
  parseExisting,
  parseNmUnmanaged,
  parseUnitsActive,
  persistPlan,
  persistenceFactCommands,
  removePlan,
  sourcesInterfacesD,
  writeFileCommand,
} from '../../src-main/link/persist.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/link/${name}`, import.meta.url), 'utf8');
const argvs = (cs: { side: string; argv: string[] }[]) => cs.map((c) => `${c.side}: ${c.argv.join(' ')}`);
const p = { nic: 'eth2', mac: '02:11:00:00:00:02', address: '10.99.0.1/30', mtu: 9000, peer: 'hostB eth1 10.99.0.2' };

describe('which persistence the host uses', () => {
  it('reads the facts', () => {
    expect(persistenceFactCommands('eth2')).toEqual({
      units: ['systemctl', 'is-active', 'systemd-networkd.service', 'NetworkManager.service'],
      interfaces: ['cat', '/etc/network/interfaces'],
      nmDevice: ['nmcli', '-t', '-f', 'GENERAL.STATE', 'device', 'show', 'eth2'],
    });
    // real: no systemd here, stdout empty, the reason on stderr
    expect(fx('units-no-systemd.stderr')).toContain('not been booted with systemd');
    expect(parseUnitsActive('')).toEqual({ networkdActive: false, networkManagerActive: false });
    expect(parseUnitsActive('active\ninactive\n')).toEqual({ networkdActive: true, networkManagerActive: false });
    expect(parseUnitsActive('inactive\nactive\n')).toEqual({ networkdActive: false, networkManagerActive: true });
    expect(sourcesInterfacesD('auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n')).toBe(true);
    expect(sourcesInterfacesD('source-directory interfaces.d\n')).toBe(true);
    expect(sourcesInterfacesD('source interfaces.d/*\n')).toBe(true);
    expect(sourcesInterfacesD('# source /etc/network/interfaces.d/*\nauto lo\n')).toBe(false);
    expect(parseNmUnmanaged('GENERAL.STATE:10 (unmanaged)\n')).toBe(true);
    expect(parseNmUnmanaged('GENERAL.STATE:100 (connected)\n')).toBe(false);
  });

  it('NetworkManager, then systemd-networkd, then ifupdown; none = a warning that it will not survive a reboot', () => {
    const f = { networkdActive: false, networkManagerActive: false, interfacesSourcesDir: false };
    expect(choosePersistence({ ...f, networkManagerActive: true, networkdActive: true }).kind).toBe('NetworkManager');
    expect(choosePersistence({ ...f, networkManagerActive: true, nmUnmanaged: true, networkdActive: true }).kind).toBe('systemd-networkd');
    expect(choosePersistence({ ...f, networkdActive: true, interfacesSourcesDir: true }).kind).toBe('systemd-networkd');
    expect(choosePersistence({ ...f, interfacesSourcesDir: true }).kind).toBe('ifupdown');
    const none = choosePersistence(f, 'hostB');
    expect(none).toEqual({
      kind: 'none',
      why: 'no systemd-networkd, NetworkManager or ifupdown in use on hostB',
      warning: 'The link works now but will not survive a reboot of hostB: nothing there would configure it at boot.',
    });
    expect(choosePersistence({ ...f, interfacesExists: true }).warning).toContain('add `source /etc/network/interfaces.d/*` to /etc/network/interfaces');
    expect(persistPlan('B', none, p)).toEqual({ kind: 'none', files: [], activate: [], remove: [], warning: none.warning });
  });
});

describe('persistence files', () => {
  it('systemd-networkd: matched by MAC, never waited for at boot', () => {
    expect(networkdFile(p)).toEqual({
      path: '/etc/systemd/network/60-lockstep-eth2.network',
      mode: 0o644,
      content: `${MARKER}
# eth2 10.99.0.1/30 ⇄ hostB eth1 10.99.0.2, MTU 9000
[Match]
MACAddress=02:11:00:00:00:02
Type=ether

[Link]
MTUBytes=9000
RequiredForOnline=no

[Network]
Address=10.99.0.1/30
LinkLocalAddressing=ipv6
IPv6AcceptRA=no
ConfigureWithoutCarrier=yes
`,
    });
  });

  it('NetworkManager: keyfile mode 600, matched by MAC, a UUID stable per MAC', () => {
    const f = nmKeyfile(p);
    expect(f.path).toBe('/etc/NetworkManager/system-connections/lockstep-eth2.nmconnection');
    expect(f.mode).toBe(0o600);
    expect(f.content).toContain('[connection]\nid=lockstep-eth2\nuuid=' + nmUuid(p.mac) + '\ntype=ethernet\nautoconnect=true\n');
    expect(f.content).toContain('[ethernet]\nmac-address=02:11:00:00:00:02\nmtu=9000\n');
    expect(f.content).toContain('[ipv4]\nmethod=manual\naddress1=10.99.0.1/30\nnever-default=true\n');
    expect(f.content).not.toContain('interface-name');
    expect(nmUuid('02:11:00:00:00:02')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(nmUuid('02:11:00:00:00:02')).toBe(nmUuid('02:11:00:00:00:02'.toUpperCase()));
    expect(nmUuid('02:11:00:00:00:02')).not.toBe(nmUuid('02:12:00:00:00:01'));
  });

  it('ifupdown: a stanza in interfaces.d (by name: says so)', () => {
    const f = ifupdownFile(p);
    expect(f.path).toBe('/etc/network/interfaces.d/lockstep-eth2');
    expect(f.content.split('\n').slice(2)).toEqual([
      '# ifupdown matches by name: the NIC with MAC 02:11:00:00:00:02 must keep the name eth2.',
      'auto eth2',
      'iface eth2 inet static',
      '    address 10.99.0.1/30',
      '    mtu 9000',
      '',
    ]);
  });

  it('refuses names or values that do not belong in a file', () => {
    expect(() => networkdFile({ ...p, nic: '../x' })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => nmKeyfile({ ...p, mac: '02:11:00:00:00:02\n[x]' })).toThrow(/Refusing/);
  });

  it('only ever replaces its own files', () => {
    const f = networkdFile(p);
    expect(existingFileAction(null, f)).toBe('create');
    expect(existingFileAction(f.content, f)).toBe('unchanged');
    expect(existingFileAction(networkdFile({ ...p, mtu: 1500 }).content, f)).toBe('replace');
    expect(() => existingFileAction('[Match]\nName=eth2\n', f, 'hostA')).toThrow(
      expect.objectContaining({
        code: 'link-persist-foreign',
        host: 'hostA',
        fix: expect.stringContaining('mv /etc/systemd/network/60-lockstep-eth2.network'),
      }),
    );
    expect(parseExisting({ code: 1, stdout: '', stderr: 'cat: /etc/x: No such file or directory\n' })).toBeNull();
    expect(parseExisting({ code: 0, stdout: 'x', stderr: '' })).toBe('x');
    expect(() => parseExisting({ code: 1, stdout: '', stderr: 'cat: /etc/x: Permission denied\n' })).toThrow(/Could not read/);
  });

  it('writes temp → mode → fsync → rename, content on stdin (run for real in a temp dir)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-link-'));
    try {
      const f = { ...nmKeyfile(p), path: join(dir, 'lockstep-eth2.nmconnection') };
      writeFileSync(f.path, 'old');
      const c = writeFileCommand('A', f);
      expect(c.argv.slice(0, 2)).toEqual(['sh', '-c']);
      expect(c.argv.slice(3)).toEqual(['sh', f.path, '600']);
      execFileSync(c.argv[0]!, c.argv.slice(1), { input: c.stdin });
      expect(readFileSync(f.path, 'utf8')).toBe(f.content);
      expect(statSync(f.path).mode & 0o777).toBe(0o600);
      expect(() => statSync(f.path + '.lockstep-tmp')).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the plans: activate, and link remove', () => {
  const nd = persistPlan('A', { kind: 'systemd-networkd', why: '' }, p);
  const nm = persistPlan('B', { kind: 'NetworkManager', why: '' }, { ...p, nic: 'eth1', mac: '02:12:00:00:00:01', address: '10.99.0.2/30' });

  it('activates with the service’s own tool', () => {
    expect(argvs(nd.activate)).toEqual(['A: networkctl reload', 'A: networkctl reconfigure eth2']);
    expect(argvs(nm.activate)).toEqual([
      'B: nmcli connection load /etc/NetworkManager/system-connections/lockstep-eth1.nmconnection',
      'B: nmcli connection up id lockstep-eth1',
    ]);
    expect(persistPlan('A', { kind: 'ifupdown', why: '' }, p).activate).toEqual([]);
  });

  it('link remove: persistence first, then each NIC back to exactly how it was; twice is harmless', () => {
    const ends = linkEnds({ aNic: 'eth2', bNic: 'eth1', aMac: p.mac, bMac: '02:12:00:00:00:01' }, planSubnet(), {
      A: { name: 'eth2', up: false, mtu: 1500, ipv6WasDisabled: false, addrGenModeWas: 'none' },
      B: { name: 'eth1', up: true, mtu: 1500, ipv6WasDisabled: true, addrGenModeWas: null },
    });
    const rec = linkRecord('10.99.0.0/30', 9000, ends, { A: nd, B: nm });
    expect(rec.persisted.map((x) => [x.side, x.kind, x.paths])).toEqual([
      ['A', 'systemd-networkd', ['/etc/systemd/network/60-lockstep-eth2.network']],
      ['B', 'NetworkManager', ['/etc/NetworkManager/system-connections/lockstep-eth1.nmconnection']],
    ]);
    // stored as JSON by setup, read back by remove
    const plan = removePlan(JSON.parse(JSON.stringify(rec)) as typeof rec);
    expect(argvs(plan)).toEqual([
      'A: rm -f /etc/systemd/network/60-lockstep-eth2.network',
      'A: networkctl reload',
      'B: nmcli connection delete id lockstep-eth1',
      'B: rm -f /etc/NetworkManager/system-connections/lockstep-eth1.nmconnection',
      'A: ip addr del 10.99.0.1/30 dev eth2',
      'A: ip link set dev eth2 mtu 1500',
      'A: ip link set dev eth2 addrgenmode none',
      'A: ip -6 addr flush dev eth2 scope link',
      'A: ip link set dev eth2 down',
      'B: ip addr del 10.99.0.2/30 dev eth1',
      'B: ip link set dev eth1 mtu 1500',
      'B: sysctl -w net.ipv6.conf.eth1.disable_ipv6=1',
    ]);
    expect(tolerated(plan[2]!, "Error: unknown connection 'lockstep-eth1'.")).toBe(true);
    expect(tolerated(plan[2]!, 'Error: NetworkManager is not running.')).toBe(true);
    expect(tolerated(plan[4]!, 'Error: ipv4: Address not found.')).toBe(true);
  });
});
