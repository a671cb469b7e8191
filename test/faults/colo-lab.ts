/** A COLO pair on the namespace lab (prefix lx) as the lockstep fault scenarios drive it, and the invariants they check. */
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import type { DrillReport } from '../../src-main/contract/index.js';
import { labEnv } from '../helpers/lab-env.js';
import { labCli } from '../helpers/lab-cli.js';
import { diskCount, qemuPids } from '../helpers/guest-disk.js';
import { expectNoLeftovers, journal } from './invariants.js';
import type { Up } from './ns-lab.js';

export const PREFIX = 'lx';

export function coloLab() {
  const { env, home } = labEnv(PREFIX, '198.18.79');
  const cli = labCli(env, 600_000);
  let up: Up | undefined;
  /** the highest count any client was given so far (acknowledged writes) */
  let acked = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const netns = (name: string) => up!.hosts.find((h) => h.name === name)!.netns;
  /** guest VMs (QEMU processes) per host, counted from the machine */
  const vms = () => ({ hostA: qemuPids(netns('hostA')).length, hostB: qemuPids(netns('hostB')).length });

  /** What the next session needs when the guest stops answering: the switch's MAC table, each VM's QEMU log, chardevs and serial tail. */
  function diagnose(): string {
    const sh = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
    const out = [
      `# bridge fdb (wire):\n${sh(['ip', 'netns', 'exec', `${PREFIX}-wire`, 'bridge', 'fdb', 'show'])
        .split('\n')
        .filter((l) => /52:54:00/.test(l))
        .join('\n')}`,
    ];
    for (const host of ['hostA', 'hostB'])
      for (const pid of qemuPids(netns(host))) {
        const qmpQuery = '{"execute":"qmp_capabilities"}\n{"execute":"query-chardev"}\n{"execute":"query-colo-status"}\n';
        const script = `for f in /run/lockstep/vm/*.stderr; do echo "== $f"; tail -5 "$f"; done; for f in /run/lockstep/vm/*-serial.log; do echo "== $f"; tail -c 400 "$f"; done; for s in /run/lockstep/vm/*-qmp.sock; do printf '%s' '${qmpQuery}' | timeout 3 socat - UNIX-CONNECT:$s | tail -2; done`;
        out.push(`# ${host} QEMU ${pid}:\n${sh(['nsenter', '-t', String(pid), '-m', '-n', 'sh', '-c', script])}`);
      }
    return out.join('\n');
  }

  /**
   * The secondary's output stops reaching the primary's comparer while COLO goes on (the stall seen
   * after a cold protect, cause unknown): its redirector to the comparer is switched off and its
   * tap taken off the bridge, so what it says goes nowhere. Through its own QMP socket, from the machine.
   */
  function stallSecondary(host: 'hostA' | 'hostB'): void {
    const [pid] = qemuPids(netns(host));
    if (pid === undefined) throw new Error(`no QEMU on ${host}`);
    const qmp = '{"execute":"qmp_capabilities"}\n{"execute":"qom-set","arguments":{"path":"/objects/f2","property":"status","value":"off"}}\n';
    const script = `printf '%s' '${qmp}' | timeout 5 socat - UNIX-CONNECT:/run/lockstep/vm/secondary-qmp.sock && ip link set lsvm0 nomaster`;
    const r = spawnSync('nsenter', ['-t', String(pid), '-m', '-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0 || (r.stdout.match(/"return"/g) ?? []).length < 2) throw new Error(`could not stall the secondary on ${host}: ${r.stdout} ${r.stderr}`);
  }

  /** Runs `script` in `host`'s mount and network namespaces (those of its sshd), as root on that host. */
  function onHost(host: 'hostA' | 'hostB', script: string): string {
    const pids = spawnSync('ip', ['netns', 'pids', netns(host)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean);
    const sshd = pids.find((p) => spawnSync('cat', [`/proc/${p}/comm`], { encoding: 'utf8' }).stdout.trim() === 'sshd');
    if (!sshd) throw new Error(`no sshd on ${host}`);
    const r = spawnSync('nsenter', ['-t', sshd, '-m', '-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`on ${host}: ${script}: ${r.stderr}`);
    return r.stdout;
  }

  /** One GET of the counter (retried while the guest boots); it must be above every earlier answer. */
  async function peek(tries = 90): Promise<number> {
    for (let i = 1; ; i++) {
      const r = cli.json<{ count: number }>(['guest', 'peek']);
      if (r.ok) {
        expect(r.value.count, 'an answered count is never given again or lost').toBeGreaterThan(acked);
        acked = r.value.count;
        return acked;
      }
      if (i >= tries) {
        console.log(diagnose());
        throw new Error(`the guest does not answer: ${JSON.stringify(r.error)}`);
      }
      await sleep(1000);
    }
  }

  /** The disk of `host` holds at least every acknowledged count, in a slot whose check is valid. */
  function expectDiskHoldsAcked(host: string): void {
    const d = diskCount(home.path, PREFIX, host);
    expect(d.count, `${host}'s disk has a valid counter slot`).not.toBeNull();
    expect(d.count!, `${host}'s disk holds the last acknowledged count ${acked}`).toBeGreaterThanOrEqual(acked);
  }

  /** A drill that must pass with its own checks (counter, TCP); every count the meter was given is acknowledged. */
  function drill(mode: string): DrillReport {
    const d = cli.ok<DrillReport>(['drill', 'run', mode]);
    if (d.verdict !== 'passed') console.log(mode, JSON.stringify({ timeline: d.timeline, reasons: d.reasons }));
    expect(d.reasons).toEqual([]);
    expect(d.verdict).toBe('passed');
    expect(d.http.wentBackwards).toBe(false);
    expect(d.stream.survived).toBe(true);
    for (const s of [...d.http.samples, ...(d.ordinary?.samples ?? [])]) if (s.count !== undefined) acked = Math.max(acked, s.count);
    return d;
  }

  return {
    cli,
    home: home.path,
    vms,
    netns,
    peek,
    drill,
    stallSecondary,
    onHost,
    expectDiskHoldsAcked,
    acked: () => acked,
    protectPlans: () => journal(home.path).filter((p) => p.kind === 'lockstep.protect'),
    up(): void {
      cli.json(['lab', 'down']);
      up = cli.ok<Up>(['lab', 'up']);
      cli.ok(['hosts', 'add-lab']);
    },
    async down(): Promise<void> {
      cli.json(['lockstep', 'stop']);
      cli.json(['lab', 'down']);
      await expectNoLeftovers(PREFIX);
      home.remove();
    },
  };
}
