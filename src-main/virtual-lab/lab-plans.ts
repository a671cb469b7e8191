import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { LockstepError } from '../contract/index.js';
import { fingerprintOfPublicKeyLine } from '../hosts/fingerprint.js';
import { SshSession } from '../hosts/ssh-session.js';
import type { PlanKind, Step } from '../tasks/step.js';
import { clearLinks, hostDir, hostKey, keyFile, patchRecord, record, runAll, type LabDeps, type LabUpParams } from './lab-plan-common.js';
import { kernelHostStep, kernelReadyStep, kernelStateDir } from './kernel-host-steps.js';
import { mustLocal, runLocal } from '../hosts/local-exec.js';
import { leftovers, linkExists, netnsList, netnsPids, pidAlive, sshBanner, waitFor } from './observe.js';
import { sshdConfig } from './sshd-config.js';
import { kernelHostFiles } from './kernel-kind.js';
import { nsHostCommands, ownedNames, wireCommands, type LabHostLayout, type LabLayout } from './topology.js';

export type { LabDeps, LabUpParams } from './lab-plan-common.js';
export { kernelStateDir } from './kernel-host-steps.js';

function keysStep(): Step<LabUpParams> {
  return {
    id: 'keys',
    title: 'Create the lab user key and each host’s host key',
    probe: async ({ params: p }) => existsSync(keyFile(p.dir)) && p.layout.hosts.every((h) => existsSync(hostKey(p.dir, h))),
    apply: async ({ params: p }) => {
      mkdirSync(p.dir, { recursive: true, mode: 0o700 });
      const gen = async (file: string, comment: string) => {
        if (!existsSync(file)) await mustLocal(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
      };
      await gen(keyFile(p.dir), 'lockstep-lab-user');
      for (const h of p.layout.hosts) {
        mkdirSync(hostDir(p.dir, h), { recursive: true, mode: 0o700 });
        await gen(hostKey(p.dir, h), `lockstep-lab-${h.name}`);
        writeFileSync(join(hostDir(p.dir, h), 'authorized_keys'), readFileSync(keyFile(p.dir) + '.pub'), { mode: 0o600 });
      }
    },
    verify: async ({ params: p }) => {
      if (!existsSync(keyFile(p.dir)))
        throw new LockstepError({ code: 'lab-keys', message: 'The lab key was not created.', fix: 'apt-get install -y openssh-client' });
    },
  };
}

function wireStep(): Step<LabUpParams> {
  const ready = async (l: LabLayout) => {
    const ns = await netnsList();
    return ns.includes(l.wireNs) && ns.includes(l.clientNs) && (await linkExists(l.desktopVeth)) && (await linkExists(l.pubBridge, l.wireNs));
  };
  return {
    id: 'wire',
    title: 'Lay the wires: public switch, crossover cable, desktop and client legs',
    probe: async ({ params: p }) => ready(p.layout),
    apply: async ({ params: p }) => {
      // a half-made wire from an interrupted run is removed first, then rebuilt whole
      const l = p.layout;
      for (const ns of [l.wireNs, l.clientNs]) if ((await netnsList()).includes(ns)) await mustLocal(['ip', 'netns', 'del', ns]);
      await clearLinks([l.desktopVeth]);
      await runAll(wireCommands(l));
    },
    verify: async ({ params: p }) => {
      if (!(await ready(p.layout)))
        throw new LockstepError({ code: 'lab-wire', message: 'The lab network was not created completely.', fix: 'lockstep lab down && lockstep lab up' });
    },
  };
}

function nsHostStep(h: LabHostLayout): Step<LabUpParams> {
  const ready = async (p: LabUpParams) => {
    if (!(await netnsList()).includes(h.netns)) return false;
    const r = await runLocal(['ip', '-n', h.netns, '-j', 'addr', 'show', 'dev', 'br0']);
    return r.code === 0 && r.stdout.includes(h.address) && (await linkExists(h.nics[2]!.wirePeer, p.layout.wireNs));
  };
  return {
    id: `host-${h.name}`,
    title: `Build ${h.name}: its namespace, NICs and br0 (${h.address})`,
    probe: async ({ params }) => ready(params),
    apply: async ({ params: p }) => {
      if ((await netnsList()).includes(h.netns)) await mustLocal(['ip', 'netns', 'del', h.netns]);
      // a deleted namespace takes its veth peers with it, asynchronously: wait, then remove stragglers
      await clearLinks(
        h.nics.map((n) => n.wirePeer),
        p.layout.wireNs,
      );
      await runAll(nsHostCommands(p.layout, h));
    },
    verify: async ({ params }) => {
      if (!(await ready(params)))
        throw new LockstepError({
          code: 'lab-host',
          message: `${h.name} was not built completely.`,
          host: h.name,
          fix: 'lockstep lab down && lockstep lab up',
        });
    },
  };
}

function sshdStep(h: LabHostLayout, deps: LabDeps): Step<LabUpParams> {
  return {
    id: `sshd-${h.name}`,
    title: `Start sshd on ${h.name}`,
    probe: async () => sshBanner(h.address, 22),
    apply: async ({ params: p, signal }) => {
      const dir = hostDir(p.dir, h);
      const config = join(dir, 'sshd_config');
      writeFileSync(
        config,
        sshdConfig({ address: h.address, port: 22, hostKey: hostKey(p.dir, h), authorizedKeys: join(dir, 'authorized_keys'), pidFile: join(dir, 'sshd.pid') }),
      );
      mkdirSync('/run/sshd', { recursive: true });
      await mustLocal(['/usr/sbin/sshd', '-t', '-f', config], { fix: 'apt-get install -y openssh-server' });
      const log = openSync(join(dir, 'sshd.log'), 'a');
      const enter = join(deps.nativeDir, 'lab/ns-host/enter-host.sh');
      const child = spawn(
        'ip',
        ['netns', 'exec', h.netns, 'unshare', '--uts', '--mount', '--propagation', 'private', enter, h.name, dir, '/usr/sbin/sshd', '-D', '-e', '-f', config],
        {
          detached: true,
          stdio: ['ignore', log, log],
        },
      );
      child.unref();
      closeSync(log);
      patchRecord(deps, (r) => {
        r.hosts[h.name] = { ...(r.hosts[h.name] ?? { fingerprint: '' }), pid: child.pid };
      });
      await waitFor(() => sshBanner(h.address, 22), 15_000, 100, signal);
    },
    verify: async ({ params: p }) => {
      if (!(await sshBanner(h.address, 22))) {
        const log = existsSync(join(hostDir(p.dir, h), 'sshd.log'))
          ? readFileSync(join(hostDir(p.dir, h), 'sshd.log'), 'utf8')
              .trim()
              .split('\n')
              .slice(-2)
              .join(' | ')
          : '';
        throw new LockstepError({
          code: 'lab-sshd',
          message: `sshd on ${h.name} does not answer on ${h.address}:22.`,
          cause: log,
          host: h.name,
          fix: 'apt-get install -y openssh-server; then lockstep lab down && lockstep lab up',
        });
      }
    },
  };
}

function sshCheckStep(deps: LabDeps): Step<LabUpParams> {
  return {
    id: 'ssh-check',
    title: 'Log in to both hosts over SSH with their pinned host keys',
    probe: async () => false,
    apply: async ({ params: p }) => {
      for (const h of p.layout.hosts) {
        const fingerprint = fingerprintOfPublicKeyLine(readFileSync(hostKey(p.dir, h) + '.pub', 'utf8'));
        const s = await SshSession.connect({ address: h.address, port: 22, user: 'root', keyFile: keyFile(p.dir), fingerprint });
        try {
          const name = (await s.check(['hostname'])).trim();
          if (name !== h.name)
            throw new LockstepError({ code: 'lab-hostname', message: `${h.address} calls itself ${name}, expected ${h.name}.`, host: h.name });
        } finally {
          s.dispose();
        }
        patchRecord(deps, (r) => {
          r.hosts[h.name] = { ...(r.hosts[h.name] ?? {}), fingerprint };
        });
      }
    },
    verify: async () => {},
  };
}

export function labUpKind(deps: LabDeps): PlanKind<LabUpParams> {
  return {
    kind: 'lab.up',
    title: (p) =>
      `Start the virtual lab (${p.flavour === 'kernel' ? (p.kernelKind === 'vm' ? 'kernel hosts: QEMU VMs' : 'kernel hosts: user-mode Linux') : 'namespace hosts'})`,
    steps: (p) => [
      keysStep(),
      wireStep(),
      ...(p.flavour === 'kernel'
        ? [...p.layout.hosts.map((h) => kernelHostStep(h, deps)), kernelReadyStep()]
        : [...p.layout.hosts.map((h) => nsHostStep(h)), ...p.layout.hosts.map((h) => sshdStep(h, deps))]),
      sshCheckStep(deps),
      {
        id: 'record',
        title: 'Remember the lab',
        probe: async () => record(deps)?.state === 'up',
        apply: async () => patchRecord(deps, (r) => (r.state = 'up')),
        verify: async () => {},
      },
    ],
  };
}

export interface LabDownParams {
  prefix: string;
  dir?: string;
}

async function killNetnsProcesses(ns: string): Promise<void> {
  const pids = await netnsPids(ns);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
  const ok = await waitFor(async () => (await netnsPids(ns)).every((p) => !pidAlive(p)), 3000, 100);
  if (!ok)
    for (const pid of await netnsPids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  await waitFor(async () => (await netnsPids(ns)).every((p) => !pidAlive(p)), 3000, 100);
}

export function labDownKind(deps: LabDeps): PlanKind<LabDownParams> {
  return {
    kind: 'lab.down',
    title: () => 'Remove the virtual lab',
    steps: (p) => [
      {
        id: 'processes',
        title: 'Stop every process of the lab hosts (VMs, sshd, kernels)',
        probe: async () => {
          const ns = new Set(await netnsList());
          for (const n of ownedNames(p.prefix).netns) if (ns.has(n) && (await netnsPids(n)).length) return false;
          return true;
        },
        apply: async () => {
          patchRecord(deps, (r) => (r.state = 'stopping'));
          // kernel hosts first get a clean shutdown (DRBD down, disks synced), then everything is killed
          if (p.dir) {
            const stops: Promise<unknown>[] = [];
            for (const name of ['hostA', 'hostB'])
              for (const kind of ['uml', 'vm'] as const) {
                const f = kernelHostFiles(kind);
                const state = kernelStateDir(p.dir, name, kind);
                if (existsSync(join(state, f.pidFile)))
                  stops.push(
                    runLocal(['bash', join(deps.nativeDir, f.scripts, 'stop-host.sh'), '--state-dir', state, '--timeout', '15'], { timeoutMs: 40_000 }),
                  );
              }
            await Promise.all(stops);
          }
          // hosts first (their VMs and sshd), then the wire (kernel hosts live there)
          const order = ownedNames(p.prefix).netns.slice().reverse();
          const ns = new Set(await netnsList());
          for (const n of order) if (ns.has(n)) await killNetnsProcesses(n);
        },
        verify: async () => {},
      },
      {
        id: 'network',
        title: 'Delete the lab’s namespaces, bridges and links',
        probe: async () => (await leftovers(p.prefix)).length === 0,
        apply: async () => {
          const owned = ownedNames(p.prefix);
          const ns = new Set(await netnsList());
          for (const n of owned.netns) if (ns.has(n)) await mustLocal(['ip', 'netns', 'del', n]);
          // the root end of a veth vanishes with its peer's namespace (asynchronously): tolerate that
          for (const l of owned.rootLinks) if (await linkExists(l)) await runLocal(['ip', 'link', 'del', l]);
        },
        verify: async () => {
          await waitFor(async () => (await leftovers(p.prefix)).length === 0, 5000, 100);
          const left = await leftovers(p.prefix);
          if (left.length)
            throw new LockstepError({ code: 'lab-leftovers', message: `Some of the lab is still there: ${left.join(', ')}.`, fix: 'lockstep lab down' });
        },
      },
      {
        id: 'forget',
        title: 'Forget the lab',
        probe: async () => record(deps) === undefined,
        apply: async () => deps.labs.delete(),
        verify: async () => {},
      },
    ],
  };
}
