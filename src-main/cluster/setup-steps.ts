/** The steps of `cluster setup` (probe → apply → verify each), run by the task runner for ClusterService. */

import type { Side } from '../hosts/command.js';
import { bothSides, err, HostPair, pollUntil, readFileExact, SIDES } from '../hosts/pair-exec.js';
import { RETRY_DROPPED, type PlanKind, type Step, type StepContext } from '../tasks/step.js';
import * as cmd from './cluster-commands.js';
import type { ClusterContext, ClusterSetupParams, ClusterStored } from './cluster-record.js';
import { renderCorosyncConf } from './corosync-conf.js';
import { ids, renderCrmConfig } from './crm-config.js';
import { promotedNode } from './crm-mon.js';
import { monOf } from './mon-read.js';
import { guestRunningStep, guestStageStep } from './guest-steps.js';
import { AGENT_PATH, GUEST_AGENT, guestArgsPath } from './guest-agent.js';

type Ctx = StepContext<ClusterSetupParams>;

export function corosyncText(rec: ClusterStored): string {
  return renderCorosyncConf({
    clusterName: rec.clusterName,
    nodes: SIDES.map((s) => ({ name: rec.nodes[s], publicAddress: rec.publicAddresses[s], crossAddress: rec.crossAddresses[s] })),
    tokenMs: rec.tokenMs,
    witness: rec.witness,
  });
}

export function crmText(rec: ClusterStored) {
  const g = rec.guest;
  return renderCrmConfig({ resources: [{ drbdResource: rec.drbdResource, guest: g ? { name: g.name, argsFile: guestArgsPath(g.name) } : null }] });
}

export function setupKind(svc: ClusterContext): PlanKind<ClusterSetupParams> {
  return {
    kind: 'cluster.setup',
    retry: RETRY_DROPPED,
    title: () => 'Run the mirror under Pacemaker + Corosync (the Mirror tier)',
    steps: () => [
      packagesStep(svc),
      filesStep(svc),
      fencingStep(svc),
      guestStageStep(svc),
      startStep(svc),
      configStep(svc),
      promotedStep(svc),
      guestRunningStep(svc),
    ],
  };
}

/** 1. Every node has corosync, pacemaker, crmsh and LINBIT's agent; how it starts daemons (systemd or not). */
function packagesStep(svc: ClusterContext): Step<ClusterSetupParams> {
  const check = async (ctx: Ctx, must: boolean) => {
    const pair = svc.pair(ctx.params.hosts);
    const got = await bothSides(async (s) => ({
      side: s,
      r: await pair.exec(s, cmd.checkPackages(!!svc.stored()!.witness)),
      starter: (await pair.check(s, cmd.detectStarter())).trim(),
    }));
    const missing = got.find((g) => g.r.code !== 0);
    if (missing && must)
      throw err(
        'cluster-packages-missing',
        `${pair.name(missing.side)} lacks what a cluster node needs:${missing.r.stdout.trim() ? ` ${missing.r.stdout.trim()}` : ''}.`,
        {
          fix: `On ${pair.name(missing.side)}: apt-get install pacemaker corosync crmsh resource-agents drbd-utils corosync-qdevice (Debian/Ubuntu/Proxmox), then: lockstep cluster setup`,
          host: pair.hosts[missing.side].hostId,
          step: 'cluster-packages',
        },
      );
    if (!missing)
      svc.patch((r) => (r.starter = { A: got[0].starter === 'systemd' ? 'systemd' : 'direct', B: got[1].starter === 'systemd' ? 'systemd' : 'direct' }));
    return !missing;
  };
  return {
    id: 'cluster-packages',
    title: 'Check that both hosts have Corosync, Pacemaker, crmsh and the DRBD agent',
    probe: (ctx) => check(ctx, false),
    apply: async (ctx) => void (await check(ctx, true)),
    verify: async (ctx) => void (await check(ctx, true)),
  };
}

/** 2. corosync.conf, the shared authkey and our guest agent on both nodes (temp → fsync → rename); a running corosync re-reads its conf. */
function filesStep(svc: ClusterContext): Step<ClusterSetupParams> {
  const differs = async (pair: HostPair, rec: ClusterStored): Promise<Side[]> => {
    const want = corosyncText(rec);
    const out: Side[] = [];
    for (const s of SIDES) {
      const [conf, key, agent, heur] = await Promise.all([
        readFileExact(pair, s, cmd.COROSYNC_CONF),
        pair.exec(s, cmd.readBase64(cmd.AUTHKEY)),
        readFileExact(pair, s, AGENT_PATH),
        readFileExact(pair, s, cmd.HEURISTICS_PATH),
      ]);
      const heuristicsOk = !rec.witness || (heur.code === 0 && heur.stdout === cmd.HEURISTICS_SCRIPT);
      if (
        conf.stdout !== want ||
        conf.code !== 0 ||
        key.code !== 0 ||
        key.stdout.trim() !== rec.authkey ||
        agent.code !== 0 ||
        agent.stdout !== GUEST_AGENT ||
        !heuristicsOk
      )
        out.push(s);
    }
    return out;
  };
  return {
    id: 'cluster-files',
    title: 'Write corosync.conf, the shared authkey and the guest agent on both hosts',
    probe: async (ctx) => (await differs(svc.pair(ctx.params.hosts), svc.stored()!)).length === 0,
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params.hosts);
      const rec = svc.stored()!;
      const o = {
        step: 'cluster-files',
        code: 'cluster-files',
        fix: 'Check that /etc and /usr/lib/ocf are writable on that host (`df -h /etc`), then: lockstep cluster setup',
      };
      await bothSides(async (s) => {
        await pair.check(s, cmd.prepareDirs(), o);
        await pair.check(s, cmd.keepOriginalConf(), o);
        await pair.check(s, cmd.writeFileAtomic(cmd.COROSYNC_CONF, '0644'), { ...o, stdin: corosyncText(rec) });
        await pair.check(s, cmd.writeBase64Atomic(cmd.AUTHKEY), { ...o, stdin: rec.authkey });
        await pair.check(s, ['mkdir', '-p', '/usr/lib/ocf/resource.d/lockstep'], o);
        await pair.check(s, cmd.writeFileAtomic(AGENT_PATH, '0755'), { ...o, stdin: GUEST_AGENT });
        if (rec.witness) {
          await pair.check(s, ['mkdir', '-p', '/usr/lib/lockstep'], o);
          await pair.check(s, cmd.writeFileAtomic(cmd.HEURISTICS_PATH, '0755'), { ...o, stdin: cmd.HEURISTICS_SCRIPT });
        }
        // convergent: a corosync already running takes the new token/quorum settings at once
        if ((await pair.exec(s, cmd.daemonsRunning())).stdout.includes('corosync')) await pair.exec(s, cmd.reloadCorosync());
        ctx.log(
          `${pair.name(s)}: wrote ${cmd.COROSYNC_CONF} (token ${rec.tokenMs} ms, ${rec.witness ? `witness ${rec.witness.address}` : 'two_node'}), ${cmd.AUTHKEY}, ${AGENT_PATH}`,
        );
      });
    },
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params.hosts);
      const left = await differs(pair, svc.stored()!);
      if (left.length)
        throw err('cluster-files', `The cluster files are not in place on ${left.map((s) => pair.name(s)).join(', ')}.`, {
          fix: 'Check that /etc/corosync is writable there, then: lockstep cluster setup',
          step: 'cluster-files',
        });
    },
  };
}

/** 3. DRBD's resource-level fencing (fencing resource-only + crm-fence-peer handlers), written by the mirror. */
function fencingStep(svc: ClusterContext): Step<ClusterSetupParams> {
  return {
    id: 'cluster-drbd-fencing',
    title: 'Turn on DRBD’s resource-level fencing (crm-fence-peer) in the mirror',
    probe: async () => false,
    apply: async () => svc.mirror.setClusterFencing(true),
    verify: async () => {},
  };
}

/** With a witness: votequorum counts three votes (both nodes + the quorum device) on this host. */
async function witnessVoting(pair: HostPair, s: Side): Promise<boolean> {
  const r = await pair.exec(s, cmd.quorumState());
  return /^Total votes:\s+3\s*$/m.test(r.stdout) && /^Flags:.*\bQdevice\b/m.test(r.stdout);
}

/** Both nodes online, a DC elected, quorate (and, with a witness, its vote counted): as seen from every node. */
async function formed(pair: HostPair, rec: ClusterStored): Promise<boolean> {
  const views = await bothSides((s) => monOf(pair, s));
  const up = views.every((m) => m !== null && m.dc !== null && m.quorate && SIDES.every((s) => m.nodes.some((n) => n.name === rec.nodes[s] && n.online)));
  if (!up || !rec.witness) return up;
  return (await bothSides((s) => witnessVoting(pair, s))).every(Boolean);
}

/** 4. corosync, then pacemakerd on both; wait for membership and a Designated Controller. */
function startStep(svc: ClusterContext): Step<ClusterSetupParams> {
  return {
    id: 'cluster-start',
    title: 'Start Corosync (and the quorum device) and Pacemaker on both hosts; wait for both nodes and a DC',
    probe: async (ctx) => formed(svc.pair(ctx.params.hosts), svc.stored()!),
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params.hosts);
      const rec = svc.stored()!;
      // a lab host's /run is a fresh tmpfs after every boot: the daemons' directories again
      await bothSides((s) => pair.check(s, cmd.prepareDirs(), { step: 'cluster-start', code: 'cluster-start-failed' }));
      await bothSides((s) =>
        pair.check(s, cmd.startDaemons(rec.starter[s] ?? 'direct'), {
          step: 'cluster-start',
          code: 'cluster-start-failed',
          fix: `On ${pair.name(s)}: read /var/log/corosync/corosync.log and /var/log/pacemaker/pacemaker.log, then: lockstep cluster setup`,
        }),
      );
      ctx.log(`corosync${rec.witness ? ', corosync-qdevice' : ''} and pacemakerd started on both hosts`);
    },
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params.hosts);
      const rec = svc.stored()!;
      // the first start waits for dc-deadtime (20 s) before a DC is elected
      const ok = await pollUntil(async () => ((await formed(pair, rec)) ? true : undefined), { timeoutMs: 120_000, intervalMs: 1000, signal: ctx.signal });
      if (!ok)
        throw err(
          'cluster-not-formed',
          `The two hosts did not form a cluster (both nodes online with a Designated Controller${rec.witness ? ', the witness voting' : ''}) within 2 minutes.`,
          {
            fix: `${rec.witness ? `Check that both hosts reach the witness at ${rec.witness.address}:${rec.witness.port} (TCP; corosync-quorumtool -s on each host shows its vote). ` : ''}Check that UDP port 5405 is open between ${rec.publicAddresses.A} and ${rec.publicAddresses.B} and between ${rec.crossAddresses.A} and ${rec.crossAddresses.B}; corosync-cfgtool -s on each host shows the links; then: lockstep cluster setup`,
            step: 'cluster-start',
          },
        );
    },
  };
}

/** 5. The Pacemaker configuration: the crm script on the first node, loaded into the CIB (merging). */
function configStep(svc: ClusterContext): Step<ClusterSetupParams> {
  const loaded = async (pair: HostPair, rec: ClusterStored) => {
    const c = crmText(rec);
    const [file, cib] = await Promise.all([readFileExact(pair, 'A', cmd.CRM_FILE), pair.exec('A', cmd.cibIds())]);
    return (
      file.code === 0 && file.stdout === c.script && cib.code === 0 && [...c.resourceIds, ...c.constraintIds].every((id) => cib.stdout.includes(`id="${id}"`))
    );
  };
  return {
    id: 'cluster-config',
    title: 'Load the Pacemaker configuration (DRBD promotable clone, constraints)',
    probe: async (ctx) => loaded(svc.pair(ctx.params.hosts), svc.stored()!),
    apply: async (ctx) => {
      const pair = svc.pair(ctx.params.hosts);
      const rec = svc.stored()!;
      const c = crmText(rec);
      const o = {
        step: 'cluster-config',
        code: 'cluster-config-failed',
        fix: `On ${pair.name('A')}: crm configure load update ${cmd.CRM_FILE} shows what Pacemaker refused; then: lockstep cluster setup`,
      };
      await pair.check('A', cmd.writeFileAtomic(cmd.CRM_FILE, '0644'), { ...o, stdin: c.script });
      await pair.check('A', cmd.crmLoad(), o);
      ctx.log(`loaded ${c.resourceIds.join(', ')}${c.constraintIds.length ? ` and ${c.constraintIds.join(', ')}` : ''} into the CIB`);
    },
    verify: async (ctx) => {
      if (!(await loaded(svc.pair(ctx.params.hosts), svc.stored()!)))
        throw err('cluster-config-failed', 'The Pacemaker configuration is not in the CIB.', {
          fix: `crm configure show; then: lockstep cluster setup`,
          step: 'cluster-config',
        });
    },
  };
}

/** 6. Pacemaker runs DRBD on both nodes and has promoted one; remember that the cluster is complete. */
function promotedStep(svc: ClusterContext): Step<ClusterSetupParams> {
  const where = async (pair: HostPair, rec: ClusterStored) => {
    const m = await monOf(pair, 'A');
    const clone = ids(rec.drbdResource).clone;
    const both = m ? m.resources.filter((r) => r.parent === clone && r.active).length === 2 : false;
    return m && both ? promotedNode(m, clone) : null;
  };
  return {
    id: 'cluster-promoted',
    title: 'Wait until Pacemaker runs DRBD on both hosts and has promoted one',
    probe: async (ctx) => svc.stored()!.complete && (await where(svc.pair(ctx.params.hosts), svc.stored()!)) !== null,
    apply: async () => {},
    verify: async (ctx) => {
      const pair = svc.pair(ctx.params.hosts);
      const rec = svc.stored()!;
      const node = await pollUntil(async () => (await where(pair, rec)) ?? undefined, { timeoutMs: 90_000, intervalMs: 1000, signal: ctx.signal });
      if (!node)
        throw err('cluster-not-promoted', `Pacemaker has not promoted ${rec.drbdResource} on either host.`, {
          fix: `crm_mon -1 on ${pair.name('A')} shows the failed actions; \`lockstep mirror status\` shows whether DRBD is connected and UpToDate. Then: lockstep cluster setup`,
          step: 'cluster-promoted',
        });
      svc.patch((r) => (r.complete = true));
      svc.log('info', `Pacemaker runs ${rec.drbdResource}: promoted on ${node}`);
    },
  };
}
