/**
 * The namespace lab with the test VM (Debian 12 + Redis, cached qcow2) delivered on hostA, for the
 * lab specs that protect it: the lab up, both hosts added, an SSH session to each, a Redis client in
 * the client namespace, and the protect command line. Each spec names its own prefix and public net.
 */
import { mkdirSync } from 'node:fs';
import type { LabStatus } from '../../src-main/contract/index.js';
import { SshSession } from '../../src-main/hosts/ssh-session.js';
import { labCli } from './lab-cli.js';
import { labEnv } from './lab-env.js';
import { redisClient } from './redis-client.js';
import { buildTestVm, TEST_VM_PORT, type TestVmBuild } from './test-vm/test-vm.js';

type Up = Extract<LabStatus, { state: 'up' }>;

export interface TestVmLab {
  lab: Up;
  build: TestVmBuild;
  hostA: SshSession;
  hostB: SshSession;
  client: ReturnType<typeof redisClient>;
}

export function testVmLab(prefix: string, net: string) {
  const { env, home } = labEnv(prefix, net);
  const cli = labCli(env, 900_000);
  const guest = `${net}.50`;
  let t: TestVmLab | undefined;
  const fresh: SshSession[] = [];
  return {
    env,
    home,
    cli,
    guest,
    /** the lab as set up by `up` (throws before) */
    get t(): TestVmLab {
      if (!t) throw new Error('testVmLab: up() has not run');
      return t;
    },
    /** builds (or takes from the cache) the test VM, brings the lab up, adds and connects both hosts */
    async up(): Promise<TestVmLab> {
      mkdirSync(`${home.path}/images`, { recursive: true });
      const build = buildTestVm(`${home.path}/images/testvm.qcow2`, { address: guest, prefixLen: 24 });
      console.log(`test_vm_build_seconds: ${build.seconds.toFixed(1)} (${build.cached ? 'cached' : 'built'})`);
      cli.json(['lab', 'down']);
      const lab = cli.ok<Up>(['lab', 'up']);
      cli.ok(['hosts', 'add-lab']);
      const [a, b] = lab.hosts;
      const connect = (h: typeof a) =>
        SshSession.connect({ address: h!.address, port: h!.port, user: lab.user, keyFile: lab.keyFile, fingerprint: h!.fingerprint });
      t = { lab, build, hostA: await connect(a), hostB: await connect(b), client: redisClient(lab.clientNetns, guest) };
      return t;
    },
    /**
     * A new SSH session to hostA or hostB: the long ones of `up` drop while a synchronous CLI call
     * blocks this process for minutes (no keepalive answered); closed by `down`.
     */
    async connect(which: 'A' | 'B'): Promise<SshSession> {
      const h = this.t.lab.hosts[which === 'A' ? 0 : 1]!;
      const lab = this.t.lab;
      const s = await SshSession.connect({ address: h.address, port: h.port, user: lab.user, keyFile: lab.keyFile, fingerprint: h.fingerprint });
      fresh.push(s);
      return s;
    },
    /** `lockstep protect hostA hostB` from the test VM's image, watching Redis */
    protectArgs(mac: string): string[] {
      const path = t?.build.path ?? '';
      return [
        'lockstep',
        'protect',
        'hostA',
        'hostB',
        '--disk',
        `hostA:${path}`,
        '--memory',
        '256',
        '--cpus',
        '1',
        '--mac',
        mac,
        '--port',
        String(TEST_VM_PORT),
      ];
    },
    /** agents and VMs stopped, sessions closed, the lab down, the home removed */
    down(): void {
      cli.json(['agent', 'stop']);
      cli.json(['lockstep', 'stop']);
      t?.hostA.dispose();
      t?.hostB.dispose();
      for (const s of fresh) s.dispose();
      cli.json(['lab', 'down']);
      home.remove();
    },
  };
}
