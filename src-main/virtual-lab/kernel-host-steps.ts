import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockstepError } from '../contract/index.js';
import { mustLocal, runLocal } from '../hosts/local-exec.js';
import type { Step } from '../tasks/step.js';
import { kernelHostFiles, labDataSize, type KernelHostKind } from './kernel-kind.js';
import { clearLinks, hostDir, patchRecord, runAll, type LabDeps, type LabUpParams } from './lab-plan-common.js';
import { pidAlive, sshBanner } from './observe.js';
import { kernelHostTapCommands, type LabHostLayout } from './topology.js';

/** A kernel host's state dir (its overlay, data disk, console log, pid) for the kind that runs it. */
export const kernelStateDir = (dir: string, hostName: string, kind: KernelHostKind) => join(dir, hostName, kernelHostFiles(kind).stateSub);

/**
 * A kernel host: its own Linux kernel in the wire namespace, booted by native/lab/uml/boot-host.sh
 * (user-mode Linux) or native/lab/vm/boot-host.sh (QEMU, where UML cannot run). Same NICs, MACs,
 * keys and data disk either way.
 */
export function kernelHostStep(h: LabHostLayout, deps: LabDeps): Step<LabUpParams> {
  // started = answering SSH, or its kernel is still booting (both hosts boot side by side;
  // the next step waits for them)
  const started = async (p: LabUpParams) => (await sshBanner(h.address, 22)) || kernelAlive(p, h);
  return {
    id: `host-${h.name}`,
    title: `Boot ${h.name}: its own Linux kernel, NICs, data disk, sshd (${h.address})`,
    probe: async ({ params }) => started(params),
    apply: async ({ params: p, log }) => {
      const l = p.layout;
      const kind = p.kernelKind ?? 'uml';
      const files = kernelHostFiles(kind);
      const state = kernelStateDir(p.dir, h.name, kind);
      const scripts = join(deps.nativeDir, files.scripts);
      if (existsSync(join(state, files.pidFile)))
        await runLocal(['bash', join(scripts, 'stop-host.sh'), '--state-dir', state, '--mode', 'kill'], { timeoutMs: 30_000 });
      await clearLinks(
        h.nics.map((n) => n.wirePeer),
        l.wireNs,
      );
      await runAll(kernelHostTapCommands(l, h));
      mkdirSync(state, { recursive: true });
      const common = [
        ...['--name', h.name, '--state-dir', state, '--netns', l.wireNs],
        ...['--nics', h.nics.map((n) => n.wirePeer).join(','), '--macs', h.nics.map((n) => n.mac).join(',')],
        ...['--ip', `${h.address}/24`, '--keys-dir', hostDir(p.dir, h), '--umid', `${l.prefix}-${h.name}`, '--data-size', labDataSize()],
      ];
      const own = kind === 'uml' ? ['--mem', '768M'] : ['--mem', '1536M', '--kernel-dir', deps.labVmDir, '--accel', p.accel];
      log(`${h.name}: ${kind === 'uml' ? 'user-mode Linux kernel' : `QEMU virtual machine (${p.accel.toUpperCase()})`}`);
      const out = await mustLocal(['bash', join(scripts, 'boot-host.sh'), ...common, ...own], {
        timeoutMs: 180_000,
        fix:
          kind === 'uml'
            ? 'lockstep lab down, then LOCKSTEP_LAB_KERNEL=vm lockstep lab up --kernel (QEMU kernel hosts)'
            : 'npm run build:native (builds the kernel host image), then lockstep lab down && lockstep lab up --kernel',
      });
      const pid = Number(out.trim().split('\n').pop());
      patchRecord(deps, (r) => {
        r.hosts[h.name] = { ...(r.hosts[h.name] ?? { fingerprint: '' }), pid };
      });
    },
    verify: async ({ params }) => {
      if (!(await started(params))) throw kernelDied(params, h);
    },
  };
}

/** Does this lab host's kernel run (its pid file names a live process whose command line carries the lab's umid)? */
function kernelAlive(p: LabUpParams, h: LabHostLayout): boolean {
  const pidFile = join(kernelStateDir(p.dir, h.name, p.kernelKind ?? 'uml'), kernelHostFiles(p.kernelKind ?? 'uml').pidFile);
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
  if (!pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`umid=${p.layout.prefix}-${h.name}`);
  } catch {
    return false;
  }
}

/** A kernel host that died while booting: the error names it and the last lines of its console. */
function kernelDied(p: LabUpParams, h: LabHostLayout): LockstepError {
  return new LockstepError({
    code: 'lab-kernel-host',
    message: `${h.name}'s kernel stopped while booting.`,
    cause: consoleTail(p, h),
    host: h.name,
    fix: 'lockstep lab down && lockstep lab up --kernel',
  });
}

function consoleTail(p: LabUpParams, h: LabHostLayout): string {
  const file = join(kernelStateDir(p.dir, h.name, p.kernelKind ?? 'uml'), kernelHostFiles(p.kernelKind ?? 'uml').console);
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ').slice(0, 400);
}

/** Both kernel hosts boot side by side; this waits until each answers SSH (or its kernel died). */
export function kernelReadyStep(): Step<LabUpParams> {
  const allUp = async (p: LabUpParams) => (await Promise.all(p.layout.hosts.map((h) => sshBanner(h.address, 22)))).every(Boolean);
  return {
    id: 'kernel-hosts-ready',
    title: 'Wait until both kernel hosts answer SSH',
    probe: async ({ params }) => allUp(params),
    apply: async ({ params: p, signal, progress }) => {
      const t0 = Date.now();
      const limitMs = p.kernelKind === 'vm' ? 240_000 : 150_000;
      while (Date.now() - t0 < limitMs && !signal.aborted) {
        const up = await Promise.all(p.layout.hosts.map((h) => sshBanner(h.address, 22)));
        if (up.every(Boolean)) return;
        for (const [i, h] of p.layout.hosts.entries()) {
          if (!up[i] && !kernelAlive(p, h)) throw kernelDied(p, h);
        }
        const s = Math.round((Date.now() - t0) / 1000);
        progress({ fraction: null, message: `booting: ${up.filter(Boolean).length} of ${up.length} hosts answer SSH (${s} s)` });
        await new Promise((r) => setTimeout(r, 300));
      }
    },
    verify: async ({ params: p }) => {
      // asked patiently: a host whose init said "ready" can take seconds to send its banner on a loaded machine
      const answers = async (address: string) => {
        for (let i = 0; i < 3; i++) if (await sshBanner(address, 22, 10_000)) return true;
        return false;
      };
      for (const h of p.layout.hosts)
        if (!(await answers(h.address)))
          throw new LockstepError({
            code: 'lab-kernel-host',
            message: `${h.name} booted but does not answer SSH on ${h.address}:22.`,
            cause: consoleTail(p, h),
            host: h.name,
            fix: 'lockstep lab down && lockstep lab up --kernel',
          });
    },
  };
}
