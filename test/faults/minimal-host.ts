/**
 * A pair of hosts with a minimal userland, our own fixture: two network namespaces (mu-a, mu-b), each
 * with a real OpenSSH sshd whose sessions are chrooted into a tree holding nothing but busybox (its
 * sh, ip and ping, and its other applets as symlinks; /usr/bin/env is busybox's too) and a crossover
 * veth between the two. No os-release: an unknown distribution. The login shell /bin/bash is a
 * two-line script that execs busybox sh. `hide(name)` takes a program off the tree's PATH (its
 * symlink renamed), `restore` puts it back. Needs root; `down()` removes everything it made and
 * stops only the sshd processes it started (by pid).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export const MU_PREFIX = 'mu';
export const MU_NET = '198.18.71';
export const MU_DIR = '/run/lockstep-test-mu';
const ROOT = join(MU_DIR, 'root');
const BIN_DIRS = ['bin', 'usr/bin'];

export interface MinimalHost {
  name: string;
  netns: string;
  address: string;
  port: number;
  fingerprint: string;
}

function sh(argv: string[], what = argv.join(' ')): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
const lexists = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
const quiet = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });

async function answers(address: string, port: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: address, port });
      s.once('data', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
      setTimeout(() => (s.destroy(), resolve(false)), 1000);
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** The chroot: busybox and its applets, env, the login shell, passwd. */
function buildTree(): void {
  for (const d of ['bin', 'usr/bin', 'etc', 'dev', 'proc', 'sys', 'tmp', 'root', 'run']) mkdirSync(join(ROOT, d), { recursive: true, mode: 0o755 });
  chmodSync(join(ROOT, 'tmp'), 0o1777);
  copyFileSync('/usr/bin/busybox', join(ROOT, 'bin/busybox'));
  chmodSync(join(ROOT, 'bin/busybox'), 0o755);
  for (const applet of sh(['/usr/bin/busybox', '--list'])
    .split('\n')
    .filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox'))
    if (!existsSync(join(ROOT, 'bin', applet))) symlinkSync('busybox', join(ROOT, 'bin', applet));
  symlinkSync('/bin/busybox', join(ROOT, 'usr/bin/env'));
  // root's login shell (from the machine's passwd) is /bin/bash: here it is busybox sh
  writeFileSync(join(ROOT, 'bin/bash'), '#!/bin/sh\nexec /bin/sh "$@"\n', { mode: 0o755 });
  writeFileSync(join(ROOT, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  writeFileSync(join(ROOT, 'etc/group'), 'root:x:0:\n');
}

function sshdConfig(address: string, side: string): string {
  return [
    `ListenAddress ${address}`,
    'Port 22',
    `HostKey ${MU_DIR}/hostkey-${side}`,
    `PidFile ${MU_DIR}/sshd-${side}.pid`,
    `AuthorizedKeysFile ${MU_DIR}/authorized_keys`,
    `ChrootDirectory ${ROOT}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'UseDNS no',
    'MaxSessions 64',
    'MaxStartups 64:30:128',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

export function minimalPair() {
  const started: ChildProcess[] = [];
  const hidden = new Set<string>();

  const down = () => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGTERM');
    started.length = 0;
    for (const side of ['a', 'b']) {
      // an sshd of an earlier, interrupted run of this spec: its pid file is ours
      const pidFile = join(MU_DIR, `sshd-${side}.pid`);
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
      try {
        if (pid > 1 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(MU_DIR)) process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
      quiet(['ip', 'netns', 'del', `${MU_PREFIX}-${side}`]);
      quiet(['ip', 'link', 'del', `${MU_PREFIX}-${side}-pub`]);
    }
    rmSync(MU_DIR, { recursive: true, force: true });
  };

  const up = async (): Promise<{ hosts: [MinimalHost, MinimalHost]; keyFile: string }> => {
    try {
      down();
    } catch {
      // nothing of an earlier run left
    }
    mkdirSync(MU_DIR, { recursive: true, mode: 0o755 });
    buildTree();
    const keyFile = join(MU_DIR, 'client_key');
    sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'lockstep-mu', '-f', keyFile]);
    copyFileSync(`${keyFile}.pub`, join(MU_DIR, 'authorized_keys'));
    const hosts: MinimalHost[] = [];
    for (const [k, side] of ['a', 'b'].entries()) {
      const ns = `${MU_PREFIX}-${side}`;
      const hostAddr = `${MU_NET}.${4 * k + 2}`;
      const machineAddr = `${MU_NET}.${4 * k + 1}`;
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', 'link', 'add', `${ns}-pub`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh(['ip', 'addr', 'add', `${machineAddr}/30`, 'dev', `${ns}-pub`]);
      sh(['ip', 'link', 'set', `${ns}-pub`, 'up']);
      sh(['ip', '-n', ns, 'addr', 'add', `${hostAddr}/30`, 'dev', 'eth0']);
      sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', machineAddr]);
      sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(MU_DIR, `hostkey-${side}`)]);
      writeFileSync(join(MU_DIR, `sshd-${side}.conf`), sshdConfig(hostAddr, side));
      const fingerprint = sh(['ssh-keygen', '-lf', join(MU_DIR, `hostkey-${side}.pub`)]).split(' ')[1]!;
      hosts.push({ name: `${MU_PREFIX}-${side}`, netns: ns, address: hostAddr, port: 22, fingerprint });
    }
    // the crossover cable
    sh(['ip', 'link', 'add', 'eth1', 'netns', `${MU_PREFIX}-a`, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', `${MU_PREFIX}-b`]);
    for (const side of ['a', 'b']) sh(['ip', '-n', `${MU_PREFIX}-${side}`, 'link', 'set', 'eth1', 'up']);
    for (const h of hosts) {
      const side = h.name.slice(-1);
      // own mount (and uts) namespace: /dev, /proc and /sys appear inside the tree only for this sshd
      const boot = [
        `hostname ${h.name}`,
        `mount --bind /dev ${ROOT}/dev`,
        `mount -t proc proc ${ROOT}/proc`,
        `mount --bind /sys ${ROOT}/sys`,
        `exec /usr/sbin/sshd -D -f ${MU_DIR}/sshd-${side}.conf -E ${MU_DIR}/sshd-${side}.log`,
      ].join(' && ');
      mkdirSync('/run/sshd', { recursive: true });
      const child = spawn('ip', ['netns', 'exec', h.netns, 'unshare', '-u', 'sh', '-c', boot], { stdio: 'ignore' });
      started.push(child);
      if (!(await answers(h.address, 22, 10_000))) throw new Error(`sshd of ${h.name} did not answer: ${quiet(['cat', `${MU_DIR}/sshd-${side}.log`]).stdout}`);
    }
    return { hosts: hosts as [MinimalHost, MinimalHost], keyFile };
  };

  /** Takes a program off the tree (both bin directories); busybox itself and the login shell's own /bin/sh stay unless asked. */
  const hide = (name: string) => {
    for (const d of BIN_DIRS) {
      const p = join(ROOT, d, name);
      if (lexists(p)) {
        renameSync(p, `${p}.hidden`);
        hidden.add(p);
      }
    }
  };
  /**
   * Installs real programs of this machine into the tree (with the libraries `ldd` names), in place
   * of busybox's: e.g. iproute2's ip and coreutils' env, while the login shell stays busybox sh.
   */
  const installReal = (paths: string[]) => {
    for (const bin of paths) {
      const libs = sh(['ldd', bin])
        .split('\n')
        .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
        .filter((x): x is string => x !== undefined);
      for (const f of [bin, ...libs]) {
        const to = join(ROOT, f);
        mkdirSync(join(to, '..'), { recursive: true });
        rmSync(to, { force: true });
        copyFileSync(f, to);
        chmodSync(to, 0o755);
      }
    }
  };
  const restore = () => {
    for (const p of hidden) renameSync(`${p}.hidden`, p);
    hidden.clear();
  };
  return { up, down, hide, restore, installReal };
}
