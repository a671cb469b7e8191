/**
 * The Mirror tier's generated configuration: corosync.conf, the crm shell script (loaded into an
 * offline CIB by the real crmsh, as `crm configure load update` does on a host), the guest's
 * OCF agent and argument file, and DRBD's resource-level fencing (checked by the real drbdadm).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LockstepError } from '../../src-main/contract/errors.js';
import { renderCorosyncConf, type CorosyncSpec } from '../../src-main/cluster/corosync-conf.js';
import { renderCrmConfig } from '../../src-main/cluster/crm-config.js';
import { HEURISTICS_SCRIPT } from '../../src-main/cluster/cluster-commands.js';
import { GUEST_AGENT, renderGuestArgs } from '../../src-main/cluster/guest-agent.js';
import { tierGuestArgv } from '../../src-main/lockstep/tier-guest.js';
import { nodeNameOf } from '../../src-main/cluster/names.js';
import { renderResource } from '../../src-main/mirror/res-config.js';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-cluster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(f: () => unknown): LockstepError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LockstepError);
    expect((e as LockstepError).fix).toMatch(/\w/);
    return e as LockstepError;
  }
  throw new Error('expected a LockstepError');
}

const pair = (over: Partial<CorosyncSpec> = {}): CorosyncSpec => ({
  clusterName: 'lockstep',
  nodes: [
    { name: 'hosta', publicAddress: '198.18.74.11', crossAddress: '10.99.0.1' },
    { name: 'hostb', publicAddress: '198.18.74.12', crossAddress: '10.99.0.2' },
  ],
  ...over,
});

describe('corosync.conf', () => {
  it('two knet links per node (public = link 0, crossover = link 1), ids from 1, encrypted', () => {
    const t = renderCorosyncConf(pair());
    expect(t).toContain('transport: knet');
    expect(t).toMatch(/name: hosta\n\s+nodeid: 1\n\s+ring0_addr: 198\.18\.74\.11\n\s+ring1_addr: 10\.99\.0\.1/);
    expect(t).toMatch(/name: hostb\n\s+nodeid: 2\n\s+ring0_addr: 198\.18\.74\.12\n\s+ring1_addr: 10\.99\.0\.2/);
    expect(t).toMatch(/linknumber: 0/);
    expect(t).toMatch(/linknumber: 1/);
    expect(t).toContain('crypto_cipher: aes256');
    expect(t).toContain('cluster_name: lockstep');
  });

  it('token 3000 by default; consensus is 1.2 × token', () => {
    expect(renderCorosyncConf(pair())).toMatch(/token: 3000\n\s+consensus: 3600/);
    expect(renderCorosyncConf(pair({ tokenMs: 1000 }))).toMatch(/token: 1000\n\s+consensus: 1200/);
  });

  it('no witness: two_node; a witness: a net quorum device (ffsplit, TLS off) and no two_node', () => {
    expect(renderCorosyncConf(pair())).toMatch(/two_node: 1/);
    const w = renderCorosyncConf(pair({ witness: { address: '198.18.74.1' } }));
    expect(w).not.toMatch(/two_node/);
    expect(w).toMatch(/device \{\n\s+model: net\n\s+votes: 1\n\s+net \{\n\s+host: 198\.18\.74\.1\n\s+port: 5403\n\s+algorithm: ffsplit\n\s+tls: off/);
    // of two equal halves, the one with the DRBD Primary scores higher (qdevice heuristics at every membership change)
    expect(w).toMatch(/heuristics \{\n\s+mode: sync\n\s+exec_drbd_primary: \/usr\/lib\/lockstep\/drbd-primary-here\n\s+\}\n\s+\}/);
    expect(renderCorosyncConf(pair())).not.toMatch(/heuristics/);
  });

  it('the heuristics check passes only where a DRBD resource is Primary (drbdsetup status as DRBD 9 prints it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'heur-'));
    try {
      writeFileSync(join(dir, 'check'), HEURISTICS_SCRIPT, { mode: 0o755 });
      const run = (status: string) => {
        writeFileSync(join(dir, 'drbdsetup'), `#!/bin/sh\nprintf '%s' '${status}'\n`, { mode: 0o755 });
        return spawnSync(join(dir, 'check'), [], { env: { PATH: `${dir}:/usr/bin:/bin` } }).status;
      };
      expect(run('r0 role:Primary\n  disk:UpToDate\n  hostB role:Secondary\n    peer-disk:UpToDate\n')).toBe(0);
      expect(run('r0 role:Secondary\n  disk:UpToDate\n  hostA role:Primary\n    peer-disk:UpToDate\n')).toBe(1);
      expect(run('r0 role:Secondary\n  disk:UpToDate\n  hostA connection:Connecting\n')).toBe(1);
      expect(run('')).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('three nodes need a witness', () => {
    const three = pair({ nodes: [...pair().nodes, { name: 'hostc', publicAddress: '198.18.74.13', crossAddress: '10.99.1.1' }] });
    expect(refusal(() => renderCorosyncConf(three)).code).toBe('bad-cluster-spec');
    expect(renderCorosyncConf({ ...three, witness: { address: '198.18.74.1' } })).toContain('nodeid: 3');
  });

  it('refuses bad names, addresses, duplicates, timings', () => {
    const n = pair().nodes;
    const cases: CorosyncSpec[] = [
      pair({ clusterName: 'a b' }),
      pair({ nodes: [{ ...n[0]!, name: 'host_a' }, n[1]!] }),
      pair({ nodes: [{ ...n[0]!, name: 'a\nb' }, n[1]!] }),
      pair({ nodes: [{ ...n[0]!, publicAddress: '127.0.0.1' }, n[1]!] }),
      pair({ nodes: [{ ...n[0]!, crossAddress: '10.99.0.1; rm -rf /' }, n[1]!] }),
      pair({ nodes: [n[0]!, { ...n[1]!, crossAddress: '10.99.0.1' }] }),
      pair({ nodes: [n[0]!, { ...n[1]!, name: 'hosta' }] }),
      pair({ nodes: [{ ...n[0]!, crossAddress: '198.18.74.11' }, n[1]!] }),
      pair({ nodes: [n[0]!] }),
      pair({ tokenMs: 50 }),
      pair({ witness: { address: '300.1.1.1' } }),
    ];
    for (const c of cases) expect(refusal(() => renderCorosyncConf(c)).step).toBe('cluster-config');
  });

  it('node names are uname -n as it is (DRBD’s crm-fence-peer names nodes by it)', () => {
    expect(nodeNameOf('hostA\n')).toBe('hostA');
    expect(nodeNameOf('kvm-01.lab.example')).toBe('kvm-01.lab.example');
    expect(refusal(() => nodeNameOf('bad_name')).code).toBe('bad-node-name');
    expect(refusal(() => nodeNameOf('-x')).code).toBe('bad-node-name');
  });
});

/** crmsh, as on a host, against an empty CIB file (CIB_file): the script must load with exit 0. */
function loadOffline(script: string, force = false): { code: number | null; cib: string; err: string } {
  const cib = join(dir, `cib-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(cib, spawnSync('cibadmin', ['--empty'], { encoding: 'utf8' }).stdout);
  const file = `${cib}.crm`;
  writeFileSync(file, script);
  const env: NodeJS.ProcessEnv = { ...process.env, CIB_file: cib, LANG: 'C', HOME: dir };
  const r = spawnSync('crm', [...(force ? ['-F'] : []), 'configure', 'load', 'update', file], { encoding: 'utf8', env });
  return { code: r.status, cib: readFileSync(cib, 'utf8'), err: r.stderr };
}

// crmsh takes seconds to start on a loaded 2-core machine: these two run real crmsh, not logic
describe('Pacemaker configuration (crm shell)', { timeout: 60_000 }, () => {
  it('DRBD as a promotable clone: one promoted, notify on; every piece explained', () => {
    const c = renderCrmConfig({ resources: [{ drbdResource: 'r0' }] });
    expect(c.script).toContain('primitive p_drbd_r0 ocf:linbit:drbd params drbd_resource=r0');
    expect(c.script).toMatch(/ms ms_drbd_r0 p_drbd_r0 meta master-max=1 master-node-max=1 clone-max=2 clone-node-max=1 notify=true/);
    expect(c.script).toContain('stonith-enabled=false');
    expect(c.resourceIds).toEqual(['ms_drbd_r0', 'p_drbd_r0']);
    for (const id of ['cib-bootstrap-options', 'rsc-options', 'p_drbd_r0', 'ms_drbd_r0', 'drbd-fencing']) expect(c.explanations.map((e) => e.id)).toContain(id);
  });

  it('a guest: colocated with the promoted side, started after promotion, optional preference', () => {
    const c = renderCrmConfig({
      resources: [{ drbdResource: 'r0', guest: { name: 'demo', argsFile: '/etc/lockstep/guests/demo.args' }, preferredNode: 'hosta' }],
    });
    expect(c.script).toContain('colocation col_vm_demo inf: p_vm_demo ms_drbd_r0:Master');
    expect(c.script).toContain('order ord_vm_demo Mandatory: ms_drbd_r0:promote p_vm_demo:start');
    expect(c.script).toContain('location loc_vm_demo p_vm_demo 50: hosta');
    expect(c.resourceIds[0]).toBe('p_vm_demo');
    expect(c.constraintIds).toEqual(['col_vm_demo', 'ord_vm_demo', 'loc_vm_demo']);
    expect(c.explanations.find((e) => e.id === 'col_vm_demo')?.text).toMatch(/only on the host where r0 is promoted/);
  });

  it('several protected VMs, each its own DRBD resource, in one configuration', () => {
    const c = renderCrmConfig({
      resources: [
        { drbdResource: 'r0', guest: { name: 'web', argsFile: '/etc/lockstep/guests/web.args' } },
        { drbdResource: 'r1', guest: { name: 'db', argsFile: '/etc/lockstep/guests/db.args' } },
      ],
    });
    expect(c.script).toContain('ms ms_drbd_r1 p_drbd_r1');
    expect(c.script).toContain('colocation col_vm_db inf: p_vm_db ms_drbd_r1:Master');
  });

  it('refuses ids that are not ids, and the same resource twice', () => {
    for (const drbdResource of ['r 0', 'r0;rm', '', '0r', 'x'.repeat(70)])
      expect(refusal(() => renderCrmConfig({ resources: [{ drbdResource }] })).code).toBe('bad-resource-id');
    expect(refusal(() => renderCrmConfig({ resources: [{ drbdResource: 'r0' }, { drbdResource: 'r0' }] })).code).toBe('bad-cluster-spec');
    expect(refusal(() => renderCrmConfig({ resources: [{ drbdResource: 'r0', guest: { name: 'g', argsFile: '/etc/x y' } }] })).code).toBe('bad-path');
    expect(refusal(() => renderCrmConfig({ resources: [] })).code).toBe('bad-cluster-spec');
  });

  it('crmsh loads it into a CIB (DRBD only), with a master/slave set and both monitor roles', () => {
    const r = loadOffline(renderCrmConfig({ resources: [{ drbdResource: 'r0' }] }).script);
    expect(r.code, r.err).toBe(0);
    expect(r.cib).toContain('<master id="ms_drbd_r0">');
    expect(r.cib).toMatch(/<primitive id="p_drbd_r0" class="ocf" provider="linbit" type="drbd">/);
    expect(r.cib).toMatch(/role="Master"/);
    expect(r.cib).toMatch(/name="stonith-enabled" value="false"/);
  }, 60_000); // crmsh starts a Python interpreter per load: seconds on a loaded machine

  // crm_resource reads agents from the compiled-in OCF root only: on a host the deployment installs
  // ocf:lockstep:guest before it loads the script; here the one complaint about it is forced past
  it('crmsh loads it with the guest (our agent lives on the hosts: its missing meta-data is the only complaint)', () => {
    const spec = { resources: [{ drbdResource: 'r0', guest: { name: 'demo', argsFile: '/etc/lockstep/guests/demo.args' } }] };
    const r = loadOffline(renderCrmConfig(spec).script, true);
    expect(r.code, r.err).toBe(0);
    expect(r.err.split('\n').filter((l) => /ERROR/.test(l) && !/ocf:lockstep:guest|lack of quorum/.test(l))).toEqual([]);
    expect(r.cib).toMatch(/<rsc_colocation id="col_vm_demo" score="INFINITY" rsc="p_vm_demo" with-rsc="ms_drbd_r0" with-rsc-role="Master"\/>/);
    expect(r.cib).toMatch(/<rsc_order id="ord_vm_demo" kind="Mandatory" first="ms_drbd_r0" first-action="promote" then="p_vm_demo" then-action="start"\/>/);
  }, 60_000); // crmsh starts a Python interpreter per load: seconds on a loaded machine
});

describe('guest agent and argument file', () => {
  it('the agent answers meta-data and reports a guest that is not running as 7', () => {
    const file = join(dir, 'guest');
    writeFileSync(file, GUEST_AGENT);
    chmodSync(file, 0o755);
    const meta = spawnSync(file, ['meta-data'], { encoding: 'utf8' });
    expect(meta.status).toBe(0);
    expect(meta.stdout).toContain('<resource-agent name="guest"');
    const mon = spawnSync(file, ['monitor'], { encoding: 'utf8', env: { ...process.env, OCF_RESKEY_name: 'nothere', OCF_RESKEY_args: '/nonexistent' } });
    expect(mon.status).toBe(7);
    const stop = spawnSync(file, ['stop'], { encoding: 'utf8', env: { ...process.env, OCF_RESKEY_name: 'nothere', OCF_RESKEY_args: '/nonexistent' } });
    expect(stop.status).toBe(0);
    expect(spawnSync(file, ['start'], { encoding: 'utf8', env: { ...process.env, OCF_RESKEY_name: 'x', OCF_RESKEY_args: '/nonexistent' } }).status).toBe(6);
  });

  it('one argument per line; must use the DRBD device; no line breaks, no -daemonize', () => {
    const argv = ['qemu-system-x86_64', '-m', '128', '-drive', 'file=/dev/drbd0,format=raw,if=virtio', '-append', 'console=ttyS0 quiet'];
    expect(renderGuestArgs(argv, '/dev/drbd0')).toBe(argv.join('\n') + '\n');
    expect(refusal(() => renderGuestArgs(['qemu', '-drive', 'file=/dev/vda'], '/dev/drbd0')).code).toBe('bad-guest');
    expect(refusal(() => renderGuestArgs(['qemu', 'file=/dev/drbd0', 'a\nb'], '/dev/drbd0')).code).toBe('bad-guest');
    expect(refusal(() => renderGuestArgs(['qemu', 'file=/dev/drbd0', '-daemonize'], '/dev/drbd0')).code).toBe('bad-guest');
    expect(refusal(() => renderGuestArgs(['qemu', 'file=/dev/vdb'], '/dev/vdb')).code).toBe('bad-guest');
  });
});

describe('DRBD resource-level fencing (drbdadm reads it)', () => {
  const spec = {
    name: 'r0',
    minor: 0,
    linkMiBps: 125,
    clusterFencing: true,
    hosts: [
      { name: 'hostA', address: '10.99.0.1', disk: '/dev/vdb' },
      { name: 'hostB', address: '10.99.0.2', disk: '/dev/vdb' },
    ] as const,
  };
  it.each([
    [
      '8.4',
      '8.4.11',
      /disk \{[^}]*fencing\s+resource-only;/,
      /fence-peer\s+"?\/usr\/lib\/drbd\/crm-fence-peer\.sh/,
      /after-resync-target\s+"?\/usr\/lib\/drbd\/crm-unfence-peer\.sh/,
    ],
    [
      '9',
      '9.2.12',
      /net \{[^}]*fencing\s+resource-only;/,
      /fence-peer\s+"?\/usr\/lib\/drbd\/crm-fence-peer\.9\.sh/,
      /unfence-peer\s+"?\/usr\/lib\/drbd\/crm-unfence-peer\.9\.sh/,
    ],
  ] as const)('%s: fencing resource-only + crm-fence-peer handlers', (flavour, driver, fencing, fence, unfence) => {
    const file = join(dir, `r0-${flavour}.res`);
    writeFileSync(file, renderResource(spec, flavour));
    const r = spawnSync('drbdadm', ['-c', file, 'dump', 'r0'], {
      encoding: 'utf8',
      env: { ...process.env, __DRBD_NODE__: 'hostA', DRBD_DRIVER_VERSION_OVERRIDE: driver, LANG: 'C' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(fencing);
    expect(r.stdout).toMatch(fence);
    expect(r.stdout).toMatch(unfence);
  });

  it('without the cluster: no fencing, no handlers (unchanged mirror)', () => {
    const t = renderResource({ ...spec, clusterFencing: false }, '8.4');
    expect(t).not.toMatch(/fencing|handlers/);
  });

  it("the Mirror tier's demo guest: its disk on the DRBD device, the lab workaround and COLO left out; the agent accepts its argv", () => {
    const argv = tierGuestArgv({ accel: 'tcg', device: '/dev/drbd0', cidr: '198.18.71.50/24', name: 'demo' });
    expect(argv[0]).toBe('qemu-system-x86_64');
    expect(argv).toContain('if=none,id=d0,driver=raw,file.filename=/dev/drbd0');
    expect(argv.join(' ')).toContain('guest_ip=198.18.71.50/24');
    expect(argv.join(' ')).not.toMatch(/LD_PRELOAD|colo|-pidfile|-daemonize/);
    expect(renderGuestArgs(argv, '/dev/drbd0').split('\n')).toHaveLength(argv.length + 1);
    expect(tierGuestArgv({ accel: 'kvm', device: '/dev/drbd1', cidr: '10.0.0.5/24', name: 'demo' })).toContain('kvm');
  });
});
