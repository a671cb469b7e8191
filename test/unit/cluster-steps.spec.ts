/**
 * The steps of `cluster setup` against two simulated hosts (files, daemons, the CIB): a first run
 * applies every step, a second finds everything already so; a host without the packages stops the
 * plan with a fix; a changed token rewrites corosync.conf and reloads the running corosync.
 * The hosts are a small model of what the commands do, keyed by the command, not by their text.
 */
import { describe, expect, it } from 'vitest';
import { LockstepError } from '../../src-main/contract/errors.js';
import type { Side } from '../../src-main/hosts/command.js';
import type { HostPair } from '../../src-main/hosts/pair-exec.js';
import type { ExecResult } from '../../src-main/hosts/ssh-session.js';
import * as cmd from '../../src-main/cluster/cluster-commands.js';
import type { ClusterContext, ClusterSetupParams, ClusterStored } from '../../src-main/cluster/cluster-record.js';
import { setupKind } from '../../src-main/cluster/setup-steps.js';
import type { StepContext } from '../../src-main/tasks/step.js';
import { clusterRecord } from '../helpers/cluster-fixture.js';

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

class FakeHost {
  files = new Map<string, string>();
  daemons = new Set<string>();
  cib = new Set<string>();
  packages = true;
  ran: string[] = [];
  constructor(readonly name: string) {}

  exec(argv: readonly (string | number)[], stdin = ''): ExecResult {
    const a = argv.map(String);
    const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
    const fail = (code = 1): ExecResult => ({ code, stdout: '', stderr: 'fake: no' });
    if (same(a, cmd.checkPackages())) return this.packages ? ok('\n') : { code: 1, stdout: ' crm ocf:linbit:drbd\n', stderr: '' };
    if (same(a, cmd.detectStarter())) return ok('direct\n');
    if (same(a, cmd.prepareDirs()) || same(a, cmd.keepOriginalConf())) return ok();
    if (same(a, cmd.daemonsRunning())) return ok([...this.daemons].map((d) => `${d}\n`).join(''));
    if (same(a, cmd.reloadCorosync())) return (this.ran.push('reload'), ok());
    if (same(a, cmd.startDaemons('direct'))) return (this.daemons.add('corosync').add('pacemakerd'), this.ran.push('start'), ok());
    if (same(a, cmd.cibIds())) return ok([...this.cib].map((id) => `<x id="${id}"/>`).join('\n'));
    if (same(a, cmd.crmLoad())) {
      for (const m of (this.files.get(cmd.CRM_FILE) ?? '').matchAll(/^(?:primitive|ms|colocation|order|location) (\S+)/gm)) this.cib.add(m[1]!);
      return (this.ran.push('load'), ok());
    }
    if (same(a, cmd.crmMon())) return this.daemons.has('pacemakerd') ? ok(crmMonXml) : fail(102);
    if (a[0] === 'mkdir') return ok();
    if (a[0] === 'sh' && a[2]?.startsWith('cat -- "$1"')) {
      const f = this.files.get(a[4]!);
      return f === undefined ? fail() : ok(f + a[5]);
    }
    if (a[0] === 'sh' && a[2]?.includes('base64 -w0')) {
      const f = this.files.get(a[4]!);
      return f === undefined ? fail() : ok(Buffer.from(f, 'binary').toString('base64'));
    }
    if (a[0] === 'sh' && a[2]?.includes('base64 -d')) return (this.files.set(a[4]!, Buffer.from(stdin, 'base64').toString('binary')), ok());
    if (a[0] === 'sh' && a[2]?.includes('cat >"$t"')) return (this.files.set(a[4]!, stdin), this.ran.push(`write ${a[4]}`), ok());
    throw new Error(`fake host: unexpected command ${JSON.stringify(a)}`);
  }
}

const crmMonXml = `<pacemaker-result api-version="2.25"><summary><current_dc present="true" version="2.1.5" name="hostA" id="1" with_quorum="true"/></summary>
<nodes><node name="hostA" id="1" online="true"/><node name="hostB" id="2" online="true"/></nodes>
<resources><clone id="ms_drbd_r0" multi_state="true"><resource id="p_drbd_r0" resource_agent="ocf:linbit:drbd" role="Promoted" active="true"><node name="hostA" id="1"/></resource>
<resource id="p_drbd_r0" resource_agent="ocf:linbit:drbd" role="Unpromoted" active="true"><node name="hostB" id="2"/></resource></clone></resources><status code="0" message="OK"/></pacemaker-result>`;

function world() {
  const hosts: Record<Side, FakeHost> = { A: new FakeHost('hostA'), B: new FakeHost('hostB') };
  const pair = {
    hosts: { A: { hostId: 'a:22', name: 'hostA' }, B: { hostId: 'b:22', name: 'hostB' } },
    name: (s: Side) => hosts[s].name,
    exec: async (s: Side, argv: readonly (string | number)[], o: { stdin?: string } = {}) => hosts[s].exec(argv, o.stdin),
    check: async (s: Side, argv: readonly (string | number)[], o: { stdin?: string; code?: string; fix?: string } = {}) => {
      const r = hosts[s].exec(argv, o.stdin);
      if (r.code !== 0) throw new LockstepError({ code: o.code ?? 'remote-command-failed', message: `${argv.join(' ')} failed`, fix: o.fix ?? 'x' });
      return r.stdout;
    },
  } as unknown as HostPair;
  let rec: ClusterStored = clusterRecord();
  let fencing = 0;
  const svc: ClusterContext = {
    stored: () => rec,
    patch: (f) => (f(rec), rec),
    pair: () => pair,
    mirror: { mirror: () => null, setClusterFencing: async () => void fencing++ },
    guests: {
      define: async () => Promise.reject(new Error('no guest here')),
      stage: async () => true,
      seeded: () => true,
      markSeeded: () => {},
      diskBytes: 16 << 20,
    },
    log: () => {},
  };
  const params: ClusterSetupParams = { hosts: rec.hosts, tokenMs: 1000, witness: null };
  const ctx = { planId: 'p', params, signal: new AbortController().signal, progress: () => {}, log: () => {} } as StepContext<ClusterSetupParams>;
  /** runs the plan's steps as the task runner does; returns the ids of the steps that acted */
  const run = async () => {
    const acted: string[] = [];
    for (const step of setupKind(svc).steps(params)) {
      if (await step.probe(ctx)) continue;
      await step.apply(ctx);
      await step.verify(ctx);
      acted.push(step.id);
    }
    return acted;
  };
  return { hosts, run, rec: () => rec, setRec: (r: ClusterStored) => (rec = r), fencing: () => fencing };
}

describe('cluster setup steps', () => {
  it('a first run acts in every step; a second finds everything already so', async () => {
    const w = world();
    expect(await w.run()).toEqual(['cluster-files', 'cluster-drbd-fencing', 'cluster-start', 'cluster-config', 'cluster-promoted']);
    for (const h of Object.values(w.hosts)) {
      expect(h.files.get(cmd.COROSYNC_CONF)).toContain('ring1_addr: 10.99.0.2');
      expect(Buffer.from(h.files.get(cmd.AUTHKEY)!, 'binary').equals(Buffer.alloc(256, 7))).toBe(true);
      expect(h.daemons.has('pacemakerd')).toBe(true);
    }
    expect(w.hosts.A.files.get(cmd.CRM_FILE)).toContain('ms ms_drbd_r0 p_drbd_r0');
    expect(w.hosts.B.files.has(cmd.CRM_FILE)).toBe(false); // loaded once, on the first node
    expect(w.rec().complete).toBe(true);
    expect(w.rec().starter).toEqual({ A: 'direct', B: 'direct' });
    w.hosts.A.ran = [];
    // only the fencing switch is asked again (the mirror's own config step is convergent)
    expect(await w.run()).toEqual(['cluster-drbd-fencing']);
    expect(w.hosts.A.ran).toEqual([]);
    expect(w.fencing()).toBe(2);
  });

  it('a new token rewrites corosync.conf on both hosts and reloads the running corosync', async () => {
    const w = world();
    await w.run();
    w.setRec({ ...w.rec(), tokenMs: 3000 });
    expect(await w.run()).toEqual(['cluster-files', 'cluster-drbd-fencing']);
    for (const h of Object.values(w.hosts)) {
      expect(h.files.get(cmd.COROSYNC_CONF)).toContain('token: 3000');
      expect(h.ran).toContain('reload');
    }
  });

  it('a host without the packages stops the plan, names what is missing and how to install it', async () => {
    const w = world();
    w.hosts.B.packages = false;
    const e = await w.run().catch((x: unknown) => x as LockstepError);
    expect(e).toBeInstanceOf(LockstepError);
    expect((e as LockstepError).code).toBe('cluster-packages-missing');
    expect((e as LockstepError).message).toContain('hostB lacks');
    expect((e as LockstepError).message).toContain('ocf:linbit:drbd');
    expect((e as LockstepError).fix).toContain('apt-get install pacemaker corosync crmsh');
    expect(w.hosts.A.files.size).toBe(0); // nothing written anywhere
  });
});
