import { LockstepError } from '../contract/index.js';
import type { LinkStatus } from '../contract/link.js';

import { RETRY_DROPPED, type PlanKind } from '../tasks/step.js';
import { planSubnet, undoCommands, type LinkEnd } from './addressing.js';
import {} from './cable-probe.js';
import type { Side } from '../hosts/command.js';
import { rttArgv } from './measure.js';
import { parseIpAddrs } from './nic-candidates.js';
import { parseExisting, type LinkRecord } from './persist.js';
import { HostPair, readFileExact, resolvePair, SIDES, err } from '../hosts/pair-exec.js';
import type { Level } from '../contract/index.js';
import { RecordRepo } from '../store/record-repo.js';
import {
  type LinkContext,
  type LinkDeps,
  type LinkStored,
  type LinkSetupParams,
  type LinkWork,
  LINK_KEY,
  linkStoredSchema,
  linkWorkSchema,
  WORK_KEY,
} from './link-record.js';
import { setupKind } from './setup-steps.js';
import { observeNics } from './observe.js';

/** The crossover replication link: find the cable, address, MTU, persist, measure (wires src-main/link/* to SSH). */
export class LinkService implements LinkContext {
  /** the link's records: owned here, validated on every read */
  private readonly links: RecordRepo<LinkStored>;
  private readonly works: RecordRepo<LinkWork>;

  constructor(readonly deps: LinkDeps) {
    const redo = { redo: 'lockstep link setup A B' };
    this.links = new RecordRepo(deps.store.kv, LINK_KEY, linkStoredSchema, redo);
    this.works = new RecordRepo(deps.store.kv, WORK_KEY, linkWorkSchema, redo);
    deps.runner.register(setupKind(this));
    deps.runner.register(this.removeKind());
  }

  /** The stored link (addresses, hosts, measured figures) for the mirror; undefined when there is none. */
  stored(): LinkStored | undefined {
    return this.links.get();
  }

  remember(st: LinkStored): void {
    this.links.set(st);
    this.works.delete();
  }

  log(level: Level, message: string, extra?: { host?: string; data?: Record<string, unknown> }): void {
    this.deps.bus.log(level, 'link', message, extra);
  }

  async setup(i: { a: string; b: string; subnet: string; mtu: 'auto' | '1500' | '9000' }): Promise<LinkStatus> {
    const hosts = resolvePair(this.deps.hosts, i.a, i.b);
    const subnet = planSubnet(i.subnet); // a malformed subnet is refused before a plan starts
    const params: LinkSetupParams = { a: hosts.A.hostId, b: hosts.B.hostId, subnet: subnet.cidr, mtu: i.mtu };
    const plan = await this.deps.runner.resumeOrRun('link.setup', params);
    if (plan.state !== 'done') throw new LockstepError(plan.error ?? { code: 'link-setup-failed', message: 'The link setup did not finish.' });
    return this.stored()!.status;
  }

  async status(): Promise<LinkStatus> {
    const st = this.stored();
    if (!st) return { state: 'none' };
    const pair = new HostPair(this.deps.hosts, st.hosts);
    const again = `lockstep link setup ${st.names.A} ${st.names.B} --subnet ${st.record.subnet}`;
    for (const side of SIDES) {
      if (!(await pair.reachable(side)))
        return {
          state: 'broken',
          why: `${st.names[side]} does not answer SSH on its public address.`,
          fix: `Power ${st.names[side]} on (or check its network), then: lockstep link status`,
        };
      const end = st.record.ends.find((e) => e.side === side)!;
      const r = await pair.exec(side, ['ip', '-j', 'addr', 'show']);
      const addrs = r.code === 0 ? parseIpAddrs(r.stdout) : [];
      const nic = addrs.find((a) => (a.address ?? '').toLowerCase() === end.mac);
      const [ip] = end.address.split('/');
      if (!nic) return { state: 'broken', why: `${st.names[side]} no longer has the link NIC ${end.nic} (${end.mac}).`, fix: again };
      if (!nic.addr_info.some((x) => x.family === 'inet' && x.local === ip))
        return { state: 'broken', why: `${st.names[side]} ${nic.ifname} no longer carries ${end.address} (rebooted without persistence?).`, fix: again };
    }
    const peer = st.record.ends[1].address.split('/')[0]!;
    const ping = await pair.exec('A', rttArgv(peer, { count: 3, intervalS: 0.2 }));
    if (!/\b[1-9]\d* (?:packets )?received/.test(ping.stdout))
      return {
        state: 'broken',
        why: `${st.names.B} (${peer}) does not answer ${st.names.A} over the link.`,
        fix: `Check the cable between ${st.status.a.nic} and ${st.status.b.nic} (link lights), then: ${again}`,
      };
    return st.status;
  }

  async remove(): Promise<LinkStatus> {
    const st = this.stored();
    if (!st) {
      this.deps.bus.log('info', 'link', 'No replication link to remove.');
      return { state: 'none' };
    }
    if (this.deps.mirrorConfigured?.())
      this.deps.bus.log('warn', 'link', 'Removing the link under a configured DRBD mirror: replication stops until the link is set up again.');
    const plan = await this.deps.runner.run('link.remove', { hosts: st.hosts });
    if (plan.state !== 'done')
      throw new LockstepError(plan.error ?? { code: 'link-remove-failed', message: 'The link was not removed completely.', fix: 'lockstep link remove' });
    return { state: 'none' };
  }

  // ── link.setup ──────────────────────────────────────────────────────────────────────

  work(planId: string): LinkWork {
    const w = this.works.get();
    return w && w.planId === planId ? w : { planId, notes: [] };
  }

  saveWork(w: LinkWork): void {
    this.works.set(w);
  }

  pair(p: LinkSetupParams): HostPair {
    return new HostPair(this.deps.hosts, { A: p.a, B: p.b });
  }

  private removeKind(): PlanKind<{ hosts: Record<Side, string> }> {
    const record = () => this.stored()?.record;
    const endsUndone = async (pair: HostPair, r: LinkRecord): Promise<LinkEnd[]> => {
      const left: LinkEnd[] = [];
      for (const e of r.ends) {
        const o = await observeNics(this, pair, e.side);
        const l = o.links.find((x) => (x.address ?? '').toLowerCase() === e.mac);
        if (!l) continue; // the NIC is gone: nothing of ours is left on it
        const [ip] = e.address.split('/');
        const addressed = (o.addrs.find((a) => a.ifname === l.ifname)?.addr_info ?? []).some((i) => i.family === 'inet' && i.local === ip);
        if (addressed || l.mtu !== e.prior.mtu || l.flags.includes('UP') !== e.prior.up) left.push(e);
      }
      return left;
    };
    const filesLeft = async (pair: HostPair, r: LinkRecord) => {
      const left: string[] = [];
      for (const p of r.persisted)
        for (const path of p.paths) if (parseExisting(await readFileExact(pair, p.side, path)) !== null) left.push(`${pair.name(p.side)} ${path}`);
      return left;
    };
    return {
      kind: 'link.remove',
      title: () => 'Remove the replication link',
      retry: RETRY_DROPPED,
      steps: (params) => {
        const pair = () => new HostPair(this.deps.hosts, params.hosts);
        return [
          {
            id: 'link-unpersist',
            title: 'Delete the network files link setup wrote',
            probe: async () => {
              const r = record();
              return !r || (await filesLeft(pair(), r)).length === 0;
            },
            apply: async () => {
              const r = record()!;
              await pair().runAll(
                r.persisted.flatMap((p) => p.remove),
                'link-unpersist',
              );
            },
            verify: async () => {
              const left = await filesLeft(pair(), record()!);
              if (left.length) throw err('link-unpersist', `Still there: ${left.join(', ')}.`, { fix: 'lockstep link remove', step: 'link-unpersist' });
            },
          },
          {
            id: 'link-unaddress',
            title: 'Take the addresses off and put both NICs back as they were',
            probe: async () => {
              const r = record();
              return !r || (await endsUndone(pair(), r)).length === 0;
            },
            apply: async () => {
              const r = record()!;
              const p = pair();
              for (const e of await endsUndone(p, r)) await p.runAll(undoCommands(e), 'link-unaddress');
            },
            verify: async () => {
              const p = pair();
              const left = await endsUndone(p, record()!);
              if (left.length)
                throw err('link-unaddress', `${left.map((e) => `${p.name(e.side)} ${e.nic}`).join(', ')} not back as before.`, {
                  fix: 'lockstep link remove',
                  step: 'link-unaddress',
                });
            },
          },
          {
            id: 'link-forget',
            title: 'Forget the link',
            probe: async () => this.stored() === undefined,
            apply: async () => {
              const st = this.stored()!;
              this.links.delete();
              this.log('info', `Link removed: ${st.status.picture} (${st.record.subnet})`);
            },
            verify: async () => {},
          },
        ];
      },
    };
  }
}
