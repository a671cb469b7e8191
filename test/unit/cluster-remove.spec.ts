/**
 * The guest's and the removal's steps against two simulated hosts (a small model of what each
 * command does, keyed by the command): the guest's disk is seeded once, on the DRBD Primary only,
 * and a second run finds everything in place; remove stops the guest through Pacemaker before it
 * deletes it (or leaves it running with --keep-guest), removes the files on every host, finishes
 * on a host that did not answer the first time, and a remove run again has nothing to do.
 */
import { describe, expect, it } from 'vitest';
import { LockstepError } from '../../src-main/contract/errors.js';
import type { Side } from '../../src-main/hosts/command.js';
import type { HostPair } from '../../src-main/hosts/pair-exec.js';
import type { ExecResult } from '../../src-main/hosts/ssh-session.js';
import * as cmd from '../../src-main/cluster/cluster-commands.js';
import type { ClusterSetupParams, ClusterStored } from '../../src-main/cluster/cluster-record.js';
import { guestStageStep } from '../../src-main/cluster/guest-steps.js';
import { removeKind, removeWords, type ClusterRemoveParams, type RemoveContext } from '../../src-main/cluster/remove-steps.js';
import { guestArgsPath } from '../../src-main/cluster/guest-agent.js';
import type { Step, StepContext } from '../../src-main/tasks/step.js';
import { clusterRecord } from '../helpers/cluster-fixture.js';

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });

class FakeHost {
  files = new Map<string, string>();
  daemons = new Set(['corosync', 'pacemakerd']);
  guestRunning = false;
  maintenance = false;
  up = true;
  role = 'Secondary';
  seeded = 0;
  ran: string[] = [];
  constructor(readonly name: string) {}

  exec(argv: readonly (string | number)[], stdin = ''): ExecResult {
    const a = argv.map(String);
    if (!this.up) throw new LockstepError({ code: 'ssh-dropped', message: `${this.name} is off`, fix: 'x' });
    if (same(a, cmd.daemonsRunning())) return ok([...this.daemons].map((d) => `${d}\n`).join(''));
    if (same(a, cmd.drbdRole('r0'))) return ok(`${this.role}/Secondary\n`);
    if (same(a, cmd.seedDisk('/dev/drbd0', 16 << 20))) return (this.seeded++, ok());
    if (same(a, cmd.crmMon())) return ok(mon(this.guestRunning ? this.name : null));
    if (same(a, cmd.crmStop(['p_vm_demo']))) return (this.ran.push('stop-guest'), (this.guestRunning = false), ok());
    if (same(a, cmd.maintenanceOn())) return (this.ran.push('maintenance'), (this.maintenance = true), ok());
    if (a[2]?.includes('cibadmin --force --delete-all')) return (this.ran.push(`delete ${a.slice(4).join(' ')}`), ok());
    if (same(a, cmd.stopDaemons('direct'))) return (this.daemons.clear(), this.ran.push('stop-daemons'), ok());
    if (same(a, cmd.removeFiles('keep')) || same(a, cmd.removeFiles('remove'))) return (this.files.clear(), this.ran.push(`remove-files ${a[7]}`), ok());
    if (a[0] === 'sh' && a[2]?.startsWith('cat -- "$1"')) {
      const f = this.files.get(a[4]!);
      return f === undefined ? { code: 1, stdout: '', stderr: 'no' } : ok(f + a[5]);
    }
    if (same(a, ['mkdir', '-p', '/etc/lockstep/guests'])) return (this.files.set('/etc/lockstep/guests/', ''), ok());
    if (a[0] === 'sh' && a[2]?.includes('cat >"$t"')) {
      // a file is written only into a directory that exists
      if (!this.files.has(a[4]!.replace(/[^/]*$/, ''))) return { code: 2, stdout: '', stderr: 'Directory nonexistent' };
      return (this.files.set(a[4]!, stdin), ok());
    }
    throw new Error(`fake host: unexpected command ${JSON.stringify(a)}`);
  }
}

const mon = (
  guestOn: string | null,
) => `<pacemaker-result api-version="2.25"><summary><current_dc present="true" version="2.1.5" name="hostA" id="1" with_quorum="true"/></summary>
<nodes><node name="hostA" id="1" online="true"/><node name="hostB" id="2" online="true"/></nodes><resources>
<resource id="p_vm_demo" resource_agent="ocf:lockstep:guest" role="${guestOn ? 'Started' : 'Stopped'}" active="${guestOn ? 'true' : 'false'}">${guestOn ? `<node name="${guestOn}" id="1"/>` : ''}</resource>
</resources><status code="0" message="OK"/></pacemaker-result>`;

function world() {
  const hosts: Record<Side, FakeHost> = { A: new FakeHost('hostA'), B: new FakeHost('hostB') };
  const pair = {
    hosts: { A: { hostId: 'a:22', name: 'hostA' }, B: { hostId: 'b:22', name: 'hostB' } },
    name: (s: Side) => hosts[s].name,
    reachable: async (s: Side) => hosts[s].up,
    exec: async (s: Side, argv: readonly (string | number)[], o: { stdin?: string } = {}) => hosts[s].exec(argv, o.stdin),
    check: async (s: Side, argv: readonly (string | number)[], o: { stdin?: string } = {}) => {
      const r = hosts[s].exec(argv, o.stdin);
      if (r.code !== 0) throw new LockstepError({ code: 'remote-command-failed', message: `${argv.join(' ')}: ${r.stderr}`, fix: 'x' });
      return r.stdout;
    },
  } as unknown as HostPair;
  let rec: ClusterStored | undefined = clusterRecord({
    complete: true,
    guest: { name: 'demo', address: '198.18.74.50', device: '/dev/drbd0', argv: ['qemu-system-x86_64', '-drive', 'file.filename=/dev/drbd0'] },
  });
  let seeded = false;
  const fencing: boolean[] = [];
  const staged = new Set<string>();
  const svc: RemoveContext = {
    stored: () => rec,
    patch: (f) => (f(rec!), rec!),
    pair: () => pair,
    forget: () => (rec = undefined),
    mirror: { mirror: () => null, setClusterFencing: async (on) => void fencing.push(on) },
    guests: {
      define: async () => rec!.guest!,
      stage: async (id, apply) => (apply ? (staged.add(id), false) : staged.has(id)),
      seeded: () => seeded,
      markSeeded: () => (seeded = true),
      diskBytes: 16 << 20,
    },
    log: () => {},
  };
  const ctx = <P>(params: P) => ({ planId: 'p', params, signal: new AbortController().signal, progress: () => {}, log: () => {} }) as StepContext<P>;
  async function run<P>(steps: Step<P>[], params: P): Promise<string[]> {
    const acted: string[] = [];
    for (const step of steps) {
      if (await step.probe(ctx(params))) continue;
      await step.apply(ctx(params));
      await step.verify(ctx(params));
      acted.push(step.id);
    }
    return acted;
  }
  const stage = () => run([guestStageStep(svc)], { hosts: { A: 'a:22', B: 'b:22' }, tokenMs: 1000, witness: null } as ClusterSetupParams);
  const remove = (keepGuest: boolean) => run(removeKind(svc).steps({} as ClusterRemoveParams), { hosts: { A: 'a:22', B: 'b:22' }, keepGuest });
  return { hosts, stage, remove, rec: () => rec, fencing: () => fencing, staged };
}

describe('the guest under the cluster', () => {
  it('is staged on both hosts; its blank disk is laid once, on the DRBD Primary only; a second run does nothing', async () => {
    const w = world();
    w.hosts.B.role = 'Primary';
    expect(await w.stage()).toEqual(['cluster-guest-stage']);
    expect([...w.staged].sort()).toEqual(['a:22', 'b:22']);
    expect([w.hosts.A.seeded, w.hosts.B.seeded]).toEqual([0, 1]);
    for (const h of Object.values(w.hosts)) expect(h.files.get(guestArgsPath('demo'))).toBe('qemu-system-x86_64\n-drive\nfile.filename=/dev/drbd0\n');
    expect(await w.stage()).toEqual([]);
    expect(w.hosts.B.seeded).toBe(1);
  });

  it('refuses to seed when DRBD is Primary nowhere, naming the fix', async () => {
    const w = world();
    const e = (await w.stage().catch((x: unknown) => x)) as LockstepError;
    expect(e.code).toBe('cluster-no-primary');
    expect(e.fix).toContain('lockstep mirror status');
  });
});

describe('cluster remove', () => {
  it('names what it stops, or what it leaves running', () => {
    const r = world().rec()!;
    expect(removeWords(r, false, 'hostA')).toContain('It stops the guest demo (198.18.74.50, running on hostA); --keep-guest leaves it running instead.');
    expect(removeWords(r, true, 'hostA')).toContain('The guest demo (198.18.74.50) is left running on hostA');
    expect(removeWords(r, true, null)).toMatch(/removes \/etc\/corosync\/corosync\.conf, \/etc\/corosync\/authkey, the OCF agent and DRBD's cluster fencing/);
  });

  it('stops the guest through Pacemaker before deleting the ids, then stops the daemons and removes the files on both hosts', async () => {
    const w = world();
    w.hosts.A.guestRunning = true;
    expect(await w.remove(false)).toEqual(['cluster-unmanage', 'cluster-stop']);
    expect(w.hosts.A.ran.slice(0, 3)).toEqual(['stop-guest', 'maintenance', 'delete col_vm_demo ord_vm_demo p_vm_demo ms_drbd_r0 p_drbd_r0']);
    for (const h of Object.values(w.hosts)) expect(h.ran.slice(-2)).toEqual(['stop-daemons', 'remove-files remove']);
    expect(w.fencing()).toEqual([false]);
    expect(w.rec()).toBeUndefined();
    expect(await w.remove(false)).toEqual([]); // nothing left to do
  });

  it('--keep-guest: nothing is stopped, every id deleted in maintenance mode, the guest run directory kept', async () => {
    const w = world();
    w.hosts.A.guestRunning = true;
    await w.remove(true);
    expect(w.hosts.A.ran).not.toContain('stop-guest');
    expect(w.hosts.A.guestRunning).toBe(true);
    expect(w.hosts.A.ran[0]).toBe('maintenance');
    expect(w.hosts.B.ran.slice(-1)).toEqual(['remove-files keep']);
  });

  it('a host that does not answer keeps the record and the error names it; the same command finishes there later', async () => {
    const w = world();
    w.hosts.B.up = false;
    const e = (await w.remove(false).catch((x: unknown) => x)) as LockstepError;
    expect(e.code).toBe('cluster-remove-incomplete');
    expect(e.message).toContain('hostB did not answer');
    expect(e.fix).toBe('Power hostB on, then: lockstep cluster remove --confirm lockstep');
    expect(w.rec()?.removing).toEqual({ left: ['B'] });
    expect(w.fencing()).toEqual([]);
    w.hosts.B.up = true;
    w.hosts.A.ran = [];
    expect(await w.remove(false)).toEqual(['cluster-stop']);
    expect(w.hosts.A.ran).toEqual([]); // hostA was clean already
    expect(w.hosts.B.ran.slice(-2)).toEqual(['stop-daemons', 'remove-files remove']);
    expect(w.fencing()).toEqual([false]);
    expect(w.rec()).toBeUndefined();
  });
});
