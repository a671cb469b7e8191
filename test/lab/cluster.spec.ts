/**
 * The Mirror tier on the kernel lab: link → DRBD mirror (blank disks) → Pacemaker + Corosync set up
 * by the app over SSH → what `cluster status` shows agrees with crm_mon read over our own SSH → the
 * promoted host is powered off and Pacemaker promotes the other → the host returns and rejoins
 * (DRBD resyncs from its bitmap) → `cluster remove` names what it stops, then removes it.
 * Driven through the CLI; the test looks at the hosts over SSH only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatusDTO, LabStatus, MirrorStatusDTO, PlanDTO } from '../../src-main/contract/index.js';
import { parseCrmMon, promotedNode } from '../../src-main/cluster/crm-mon.js';
import { labEnv } from '../helpers/lab-env.js';
import { cli } from '../helpers/processes.js';
import { mustOnHost, onHost, stopKernels, type LabHost, type Up } from '../helpers/kernel-lab.js';

const PREFIX = 'pc';
const { env, home } = labEnv(PREFIX, '198.18.71');
type Res<T> = { ok: boolean; value: T; error?: { code: string; message: string; fix?: string } };
let lab: Up;
const figures: Record<string, number> = {};

const json = <T>(args: string[]): Res<T> => {
  const r = cli([...args, '--json'], env, 600_000);
  try {
    return JSON.parse(r.stdout) as Res<T>;
  } catch {
    throw new Error(`lockstep ${args.join(' ')}: no JSON (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
  }
};
const ok = <T>(args: string[]): T => {
  const r = json<T>(args);
  if (!r.ok) throw new Error(`lockstep ${args.join(' ')} failed: ${JSON.stringify(r.error)}`);
  return r.value;
};
const host = (name: string): LabHost => lab.hosts.find((h) => h.name === name)!;
const node = (name: string) => name; // Pacemaker node = uname -n
const running = (s: ClusterStatusDTO) => {
  if (s.state !== 'running') throw new Error(`expected a running cluster, got ${JSON.stringify(s)}`);
  return s;
};
async function waitFor<T>(f: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
/** crm_mon on a host, over SSH, parsed by the same parser (the raw XML is checked too). */
async function crmMonOn(name: string) {
  const xml = await mustOnHost(lab, host(name), ['crm_mon', '-1', '--output-as=xml']);
  return { xml, mon: parseCrmMon(xml) };
}

beforeAll(() => {
  cli(['lab', 'down'], env);
  lab = ok<Up>(['lab', 'up', '--kernel']);
  ok(['hosts', 'add-lab']);
  ok(['link', 'setup', 'hostA', 'hostB']);
  ok<MirrorStatusDTO>(['mirror', 'setup', '--blank']);
}, 300_000);

afterAll(() => {
  const down = cli(['lab', 'down'], env, 300_000);
  if (down.code !== 0) {
    console.log(`lab down failed (exit ${down.code}): ${down.stderr.slice(0, 800)}`);
    stopKernels(home.path, PREFIX, lab?.hosts ?? []);
  }
  home.remove();
  console.log(`figures ${JSON.stringify(figures)}`);
});

describe('the Mirror tier on Pacemaker + Corosync (kernel lab)', () => {
  let promoted = '';

  it('sets the cluster up from nothing: both nodes online, quorate, a DC, DRBD promoted on one host; crm_mon over SSH agrees', async () => {
    const t0 = Date.now();
    const st = running(ok<ClusterStatusDTO>(['cluster', 'setup', '--token-ms', '1000']));
    figures.mirror_tier_setup_seconds = (Date.now() - t0) / 1000;
    expect(st.mon.quorate).toBe(true);
    expect(st.mon.dc).not.toBeNull();
    expect(st.mon.nodes.map((n) => [n.name, n.online]).sort()).toEqual([
      ['hostA', true],
      ['hostB', true],
    ]);
    promoted = promotedNode(st.mon, 'ms_drbd_r0')!;
    expect(['hostA', 'hostB']).toContain(promoted);
    expect(st.explanations.map((e) => e.id)).toEqual(expect.arrayContaining(['ms_drbd_r0', 'drbd-fencing']));
    for (const name of ['hostA', 'hostB']) {
      const { xml, mon } = await crmMonOn(name);
      expect(mon.nodes.map((n) => n.name).sort()).toEqual(['hostA', 'hostB']);
      expect(promotedNode(mon, 'ms_drbd_r0')).toBe(promoted);
      expect(xml).toMatch(new RegExp(`role="(Master|Promoted)"[^>]*>\\s*<node name="${promoted}"`));
      // DRBD's resource-level fencing is in the resource on both hosts
      const res = await mustOnHost(lab, host(name), ['drbdadm', 'dump', 'r0']);
      expect(res).toMatch(/fencing\s+resource-only;/);
      expect(res).toMatch(/crm-fence-peer\.sh/);
      // the DRBD role Pacemaker reports is the kernel's
      const role = (await mustOnHost(lab, host(name), ['drbdadm', 'role', 'r0'])).trim();
      expect(role.split('/')[0]).toBe(node(name) === promoted ? 'Primary' : 'Secondary');
    }
  });

  it('a second setup changes nothing (every step already so)', () => {
    running(ok<ClusterStatusDTO>(['cluster', 'setup']));
    const plan = ok<PlanDTO[]>(['tasks', 'list']).find((p) => p.kind === 'cluster.setup')!;
    for (const id of ['cluster-packages', 'cluster-files', 'cluster-start', 'cluster-config', 'cluster-promoted'])
      expect(plan.steps.find((s) => s.id === id)?.state, id).toBe('skipped');
  });

  it('the promoted host is powered off: Pacemaker promotes the other', async () => {
    const victim = promoted;
    const survivor = victim === 'hostA' ? 'hostB' : 'hostA';
    const t0 = Date.now();
    ok<LabStatus>(['lab', 'power', victim, 'off']);
    await waitFor(
      async () => {
        const { mon } = await crmMonOn(survivor);
        return promotedNode(mon, 'ms_drbd_r0') === node(survivor) ? true : undefined;
      },
      60_000,
      `${survivor} promoted`,
    );
    figures.mirror_tier_restart_gap_seconds_power_off_host = (Date.now() - t0) / 1000;
    expect((await mustOnHost(lab, host(survivor), ['drbdadm', 'role', 'r0'])).trim()).toMatch(/^Primary\//);
    promoted = node(survivor);
    // DRBD's resource-level fencing: the survivor forbade promoting anywhere but itself (by uname -n)
    const cons = await mustOnHost(lab, host(survivor), ['sh', '-c', 'cibadmin --query --scope constraints']);
    expect(cons).toContain(`operation="ne" value="${survivor}"`);
    const st = running(ok<ClusterStatusDTO>(['cluster', 'status']));
    expect(st.readFrom).toBe(survivor);
    expect(st.mon.nodes.find((n) => n.name === node(victim))?.online).toBe(false);
    expect(st.mon.quorate).toBe(true); // two_node: the survivor keeps quorum
  });

  it('the host returns and rejoins: cluster setup starts it again, DRBD resyncs, it stays unpromoted', async () => {
    const back = promoted === 'hostA' ? 'hostB' : 'hostA';
    lab = ok<Up>(['lab', 'power', back, 'on']);
    // a rebooted lab host lost the link's addresses (nothing persists them there): the link first
    ok(['link', 'setup', 'hostA', 'hostB']);
    const st = running(ok<ClusterStatusDTO>(['cluster', 'setup']));
    expect(st.mon.nodes.every((n) => n.online)).toBe(true);
    expect(promotedNode(st.mon, 'ms_drbd_r0')).toBe(promoted);
    await waitFor(
      async () => {
        const r = await onHost(lab, host(back), ['drbdadm', 'dstate', 'r0']);
        return r.stdout.trim() === 'UpToDate/UpToDate' ? true : undefined;
      },
      60_000,
      `${back} UpToDate again`,
    );
  });

  it('remove names what it stops and asks for --confirm; then Pacemaker and Corosync are gone and DRBD keeps running', async () => {
    const r = json<ClusterStatusDTO>(['cluster', 'remove']);
    expect(r.ok).toBe(false);
    expect(r.error!.code).toBe('confirm-needed');
    expect(r.error!.message).toMatch(/stops Pacemaker and Corosync on hostA and hostB/);
    expect(r.error!.fix).toBe('lockstep cluster remove --confirm lockstep');
    expect(ok<ClusterStatusDTO>(['cluster', 'remove', '--confirm', 'lockstep'])).toEqual({ state: 'none' });
    for (const name of ['hostA', 'hostB']) {
      expect((await onHost(lab, host(name), ['sh', '-c', 'pidof corosync pacemakerd'])).code).not.toBe(0);
      expect((await onHost(lab, host(name), ['sh', '-c', 'test -e /etc/corosync/authkey'])).code).not.toBe(0);
      expect(await mustOnHost(lab, host(name), ['drbdadm', 'dump', 'r0'])).not.toMatch(/fencing\s+resource-only/);
      expect((await mustOnHost(lab, host(name), ['drbdadm', 'cstate', 'r0'])).trim()).toBe('Connected');
    }
    expect(ok<ClusterStatusDTO>(['cluster', 'status'])).toEqual({ state: 'none' });
  });
});
