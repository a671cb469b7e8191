import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AppEvent, ClusterStatusDTO, MirrorStatusDTO, PlanDTO, Result } from '../../src-main/contract/index.js';
import { setDoor } from '../../src-renderer/api.js';
import ConfirmDialog from '../../src-renderer/components/ConfirmDialog.svelte';
import { confirmer } from '../../src-renderer/lib/confirm.svelte.js';
import { cluster } from '../../src-renderer/stores/cluster.svelte.js';
import { pairState } from '../../src-renderer/stores/pair.svelte.js';
import ClusterView from '../../src-renderer/views/ClusterView.svelte';
import { confirmNeeded, monXml, running } from './cluster-fixtures.js';

type Call = { name: string; input: Record<string, unknown> };
const listeners = new Set<(e: AppEvent) => void>();

/** A door that answers `cluster.status` with what the test holds now, `cluster.remove` with `onRemove`, and records every call. */
function fakeDoor(o: { status: () => ClusterStatusDTO; mirror?: MirrorStatusDTO; onRemove?: (input: Record<string, unknown>) => Result<ClusterStatusDTO> }) {
  const calls: Call[] = [];
  listeners.clear();
  setDoor({
    kind: 'web',
    invoke: async (name, input) => {
      calls.push({ name, input: input as Record<string, unknown> });
      if (name === 'cluster.status') return { ok: true, value: o.status() };
      if (name === 'mirror.status' && o.mirror) return { ok: true, value: o.mirror };
      if (name === 'cluster.remove' && o.onRemove) return o.onRemove(input as Record<string, unknown>);
      return { ok: false, error: { code: 'x', message: 'not here' } };
    },
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  });
  return calls;
}

const node = (name: string) => screen.getByTestId(`cluster-node-${name}`);
const removes = (calls: Call[]) => calls.filter((c) => c.name === 'cluster.remove').map((c) => c.input);

beforeEach(() => {
  cluster.status = null;
  cluster.error = null;
  cluster.readAt = null;
  pairState.mirror = null;
  confirmer.answer(false);
});

describe('ClusterView', () => {
  it('running: both nodes online, the DC, DRBD promoted on hosta, the guest on hosta, each constraint explained', async () => {
    fakeDoor({ status: () => running(monXml('healthy', 'hosta')) });
    render(ClusterView);
    await waitFor(() => expect(screen.getByTestId('cluster-view').dataset.state).toBe('running'));

    expect(node('hosta').dataset).toMatchObject({ online: 'true', promoted: 'true', dc: 'true' });
    expect(node('hostb').dataset).toMatchObject({ online: 'true', promoted: 'false', dc: 'false' });
    expect(node('hosta').textContent).toContain('DRBD ms_drbd_r0: Promoted');
    expect(node('hosta').textContent).toContain('guest demo runs here');
    expect(node('hostb').textContent).toContain('DRBD ms_drbd_r0: Unpromoted');
    expect(node('hosta').textContent).not.toContain('Unpromoted');
    expect(screen.getByTestId('cluster-guest-node').dataset.node).toBe('hosta');
    expect(screen.getByTestId('cluster-guest-node').textContent).toBe('runs on hosta');
    expect(screen.getByTestId('cluster-quorate').dataset.quorate).toBe('true');
    expect(screen.getByTestId('cluster-quorate').textContent).toContain('two_node');
    expect(screen.getByTestId('cluster-witness').dataset.tone).toBe('none');
    expect(screen.getByTestId('cluster-headline').dataset.tone).toBe('ok');
    expect(screen.getByTestId('cluster-headline').textContent).toContain('Cluster lockstep runs on hosta and hostb');

    const explained = screen.getAllByTestId('cluster-explanation').map((e) => e.dataset.id);
    for (const id of ['ms_drbd_r0', 'p_drbd_r0', 'p_vm_demo', 'col_vm_demo', 'ord_vm_demo']) expect(explained).toContain(id);
    const col = screen.getAllByTestId('cluster-explanation').find((e) => e.dataset.id === 'col_vm_demo')!;
    expect(col.textContent).toMatch(/only on the host where r0 is promoted/);
    expect(screen.getByTestId('cluster-failures').textContent).toContain('None.');
  });

  it('a failed action is shown with Pacemaker’s words', async () => {
    fakeDoor({ status: () => running(monXml('failed-action'), { guest: false }) });
    render(ClusterView);
    await waitFor(() => expect(screen.getByTestId('cluster-view').dataset.state).toBe('running'));
    const f = screen.getByTestId('cluster-failures').textContent!;
    expect(f).toMatch(/asyncmon of p_drbd_r0 on hostb failed: .* \(exit 1\)/);
    expect(f).toContain('Reason: “Simulated failure”');
    expect(screen.getByTestId('cluster-headline').dataset.tone).toBe('warn');
    expect(screen.queryByTestId('cluster-guest')).toBeNull();
  });

  it('a node offline, quorum kept with the witness’s vote: hostb promoted and running the guest', async () => {
    fakeDoor({ status: () => running(monXml('peer-off', 'hostb'), { readFrom: 'hostB', witness: '198.18.77.1:5403', witnessLocal: { running: true } }) });
    render(ClusterView);
    await waitFor(() => expect(screen.getByTestId('cluster-view').dataset.state).toBe('running'));

    expect(node('hosta').dataset).toMatchObject({ online: 'false', promoted: 'false', dc: 'false' });
    expect(node('hosta').textContent).toContain('offline');
    expect(node('hostb').dataset).toMatchObject({ online: 'true', promoted: 'true', dc: 'true' });
    expect(screen.getByTestId('cluster-guest-node').dataset.node).toBe('hostb');
    const q = screen.getByTestId('cluster-quorate');
    expect(q.dataset.quorate).toBe('true');
    expect(q.textContent).toContain("Quorate with the witness's vote: hostb and the witness at 198.18.77.1:5403 outvote hosta.");
    expect(screen.getByTestId('cluster-witness').textContent).toContain('corosync-qnetd run by this app: running');
    expect(screen.getByTestId('cluster-headline').textContent).toContain('hosta is offline: hostb carries the cluster');
    expect(screen.getByRole('radio', { name: 'Keep the witness at 198.18.77.1:5403' })).toBeTruthy();
  });

  it('the local witness not running is said, in the witness’s colour', async () => {
    fakeDoor({ status: () => running(monXml('healthy', 'hosta'), { witness: '198.18.77.1:5403', witnessLocal: { running: false } }) });
    render(ClusterView);
    await waitFor(() => expect(screen.getByTestId('cluster-witness').dataset.tone).toBe('bad'));
    expect(screen.getByTestId('cluster-witness').textContent).toContain('NOT running');
    expect(screen.getByTestId('cluster-quorate').textContent).toContain('the witness at 198.18.77.1:5403 is the third vote');
  });

  it('down: says why and the fix, offers to start it again, draws no nodes', async () => {
    const down: ClusterStatusDTO = {
      state: 'down',
      clusterName: 'lockstep',
      why: 'hostA does not answer SSH; hostB: crm_mon exit 102 (crm_mon: Connection to cluster failed: Connection refused)',
      fix: 'lockstep cluster setup   (starts Corosync and Pacemaker again)',
    };
    fakeDoor({ status: () => down });
    render(ClusterView);
    await waitFor(() => expect(screen.getByTestId('cluster-view').dataset.state).toBe('down'));
    expect(screen.getByTestId('cluster-down').textContent).toContain('The cluster lockstep is down');
    expect(screen.getByTestId('cluster-down-why').textContent).toContain('hostA does not answer SSH; hostB: crm_mon exit 102');
    expect(screen.getByTestId('cluster-down-fix').textContent).toContain('lockstep cluster setup');
    expect(screen.getByRole('button', { name: 'Start it again' })).toBeTruthy();
    // what the cluster had is not known while it is down: "no change" does not claim there is no witness
    expect(screen.getByRole('radio', { name: 'As configured (unchanged)' })).toBeTruthy();
    expect(screen.queryByTestId('cluster-picture')).toBeNull();
    expect(screen.queryByTestId('cluster-quorate')).toBeNull();
  });

  it('none: explains the Mirror tier and that the mirror comes first; Set up waits for the mirror', async () => {
    const calls = fakeDoor({ status: () => ({ state: 'none' }), mirror: { state: 'none' } });
    render(ClusterView);
    await waitFor(() => expect(screen.getByTestId('cluster-view').dataset.state).toBe('none'));
    const intro = screen.getByTestId('cluster-none').textContent!;
    expect(intro).toContain('Mirror tier');
    expect(intro).toContain('Pacemaker restarts it on the other host');
    expect(intro).toContain('lockstep mirror setup');
    await waitFor(() => expect(screen.getByTestId('cluster-needs-mirror')).toBeTruthy());
    expect((screen.getByRole('button', { name: 'Set up the cluster' }) as HTMLButtonElement).disabled).toBe(true);
    expect(calls.some((c) => c.name === 'cluster.setup')).toBe(false);
  });

  it('Set up sends the chosen options to cluster.setup', async () => {
    const calls = fakeDoor({ status: () => ({ state: 'none' }) });
    render(ClusterView);
    await waitFor(() => expect(screen.getByTestId('cluster-view').dataset.state).toBe('none'));
    await fireEvent.input(screen.getByLabelText(/Token \(ms\)/), { target: { value: '1500' } });
    await fireEvent.click(screen.getByRole('radio', { name: /third machine/ }));
    await fireEvent.input(screen.getByLabelText('Witness address'), { target: { value: '198.18.77.9' } });
    await fireEvent.click(screen.getByRole('checkbox', { name: /demo guest/ }));
    await fireEvent.click(screen.getByRole('button', { name: 'Set up the cluster' }));
    await waitFor(() => expect(calls.find((c) => c.name === 'cluster.setup')?.input).toEqual({ tokenMs: 1500, witness: '198.18.77.9', guest: 'demo' }));
  });

  it('Remove… names what it stops and removes, asks once; nothing is removed before the yes, and the yes sends the name', async () => {
    const calls = fakeDoor({
      status: () => running(monXml('healthy', 'hosta')),
      onRemove: (i) => (i.confirm === 'lockstep' ? { ok: true, value: { state: 'none' } } : { ok: false, error: confirmNeeded(i.keepGuest === true, 'hosta') }),
    });
    render(ClusterView);
    render(ConfirmDialog);
    await waitFor(() => expect(screen.getByTestId('cluster-view').dataset.state).toBe('running'));

    await fireEvent.click(screen.getByRole('button', { name: 'Remove the cluster…' }));
    await waitFor(() => expect(screen.getByTestId('confirm-dialog')).toBeTruthy());
    const dialog = screen.getByTestId('confirm-dialog');
    expect(within(dialog).getByRole('heading').textContent).toBe('Remove the cluster lockstep from hosta and hostb?');
    const destroys = within(dialog).getByTestId('destroys').textContent!;
    expect(destroys).toContain('This stops Pacemaker and Corosync on hosta and hostb');
    expect(destroys).toContain('p_vm_demo');
    expect(destroys).toContain('/etc/corosync/corosync.conf');
    expect(destroys).toContain('It stops the guest demo (198.18.77.50, running on hosta); “Keep the guest running” leaves it running instead.');
    expect(within(dialog).getByTestId('keeps').textContent).toContain('DRBD r0 stays up');
    expect(destroys).not.toContain('stays up');
    // only the question was asked: no call carried the confirmation
    expect(removes(calls)).toEqual([{ keepGuest: false }]);

    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await tick();
    expect(screen.queryByTestId('confirm-dialog')).toBeNull();
    expect(removes(calls)).toEqual([{ keepGuest: false }]);

    await fireEvent.click(screen.getByRole('checkbox', { name: /Keep the guest running/ }));
    await fireEvent.click(screen.getByRole('button', { name: 'Remove the cluster…' }));
    await waitFor(() => expect(screen.getByTestId('keeps').textContent).toContain('The guest demo (198.18.77.50) is left running on hosta'));
    expect(screen.getByTestId('destroys').textContent).not.toContain('guest demo');
    expect(removes(calls)).toEqual([{ keepGuest: false }, { keepGuest: true }]);
    await fireEvent.click(screen.getByRole('button', { name: 'Remove the cluster, keep the guest running' }));
    await waitFor(() => expect(removes(calls).at(-1)).toEqual({ confirm: 'lockstep', keepGuest: true }));
    expect(removes(calls)).toHaveLength(3);
  });

  it('refreshes while open (a node that goes offline is shown), and stops reading once closed', async () => {
    let xml = monXml('healthy');
    const calls = fakeDoor({ status: () => running(xml, { guest: false }) });
    const view = render(ClusterView, { pollMs: 30 });
    await waitFor(() => expect(node('hosta').dataset.online).toBe('true'));
    xml = monXml('peer-off');
    await waitFor(() => expect(node('hosta').dataset.online).toBe('false'));
    expect(node('hostb').dataset.promoted).toBe('true');
    view.unmount();
    const reads = calls.filter((c) => c.name === 'cluster.status').length;
    await new Promise((r) => setTimeout(r, 120));
    expect(calls.filter((c) => c.name === 'cluster.status').length).toBe(reads);
  });

  it('reads again at once when a cluster plan ends (not on other plans), between polls', async () => {
    let xml = monXml('healthy');
    const calls = fakeDoor({ status: () => running(xml, { guest: false }) });
    render(ClusterView, { pollMs: 60_000 });
    await waitFor(() => expect(node('hosta').dataset.online).toBe('true'));
    const reads = () => calls.filter((c) => c.name === 'cluster.status').length;
    const before = reads();
    const plan = (kind: string, state: PlanDTO['state']): AppEvent => ({
      type: 'task-updated',
      plan: { id: 'p1', kind, title: kind, state, createdAt: 1, updatedAt: 2, steps: [] },
    });
    xml = monXml('peer-off');
    listeners.forEach((l) => l(plan('mirror.setup', 'done')));
    listeners.forEach((l) => l(plan('cluster.setup', 'running')));
    await tick();
    expect(reads()).toBe(before);
    listeners.forEach((l) => l(plan('cluster.setup', 'done')));
    await waitFor(() => expect(node('hosta').dataset.online).toBe('false'));
    expect(reads()).toBe(before + 1);
  });
});
