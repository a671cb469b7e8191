// Each module's record (link, mirror, agent, preflight, virtual lab), validated on read: a record
// as the module writes it round-trips; a corrupt one is an error naming the key, the field and a fix.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { agentRecordSchema, type AgentRecord } from '../../src-main/agent/agent-record.js';
import { linkStoredSchema, linkWorkSchema, type LinkStored, type LinkWork } from '../../src-main/link/link-record.js';
import { mirrorSkipSchema, type MirrorSkip } from '../../src-main/mirror/availability.js';
import { mirrorStoredSchema, type MirrorStored } from '../../src-main/mirror/mirror-record.js';
import { lastPreflightSchema } from '../../src-main/preflight/preflight-record.js';
import type { LastPreflight } from '../../src-main/contract/preflight.js';
import { RecordRepo, type RecordOptions } from '../../src-main/store/record-repo.js';
import { Store } from '../../src-main/store/store.js';
import { labRecordSchema, type LabRecord } from '../../src-main/virtual-lab/lab-state.js';
import { planLayout } from '../../src-main/virtual-lab/topology.js';
import { tempDir } from '../helpers/temp.js';

const A = '198.18.77.11:22';
const B = '198.18.77.12:22';
const prior = (name: string) => ({ name, up: false, mtu: 1500, ipv6WasDisabled: false, addrGenModeWas: null });
const endDto = (host: string, nic: string, address: string) => ({
  host,
  name: host,
  nic,
  mac: '02:00:00:00:00:01',
  address,
  mtu: 1500,
  persistence: 'networkd' as const,
});

const link: LinkStored = {
  version: 1,
  hosts: { A, B },
  names: { A: 'lsa', B: 'lsb' },
  record: {
    version: 1,
    subnet: '10.99.0.0/30',
    mtu: 1500,
    ends: [
      { side: 'A', nic: 'eth2', mac: '02:00:00:00:00:01', address: '10.99.0.1/30', prior: prior('eth2') },
      { side: 'B', nic: 'eth1', mac: '02:00:00:00:00:02', address: '10.99.0.2/30', prior: prior('eth1') },
    ],
    persisted: [
      {
        side: 'A',
        kind: 'systemd-networkd',
        paths: ['/etc/systemd/network/60-lockstep.network'],
        remove: [{ side: 'A', argv: ['rm', '-f', 'x'], why: 'w', tolerate: 'No such' }],
      },
    ],
  },
  status: {
    state: 'up',
    a: endDto(A, 'eth2', '10.99.0.1/30'),
    b: endDto(B, 'eth1', '10.99.0.2/30'),
    subnet: '10.99.0.0/30',
    mtu: 1500,
    picture: 'lsa eth2 ⇄ lsb eth1',
    measured: { rttP50Ms: 0.1, rttP99Ms: 0.3, mibPerSec: null, tool: 'ping' },
    notes: ['MTU 1500: standard.'],
  },
  setupAt: 1,
};

const work: LinkWork = {
  planId: 'p1',
  priors: { A: [prior('eth1'), prior('eth2')], B: [prior('eth1')] },
  cable: { aNic: 'eth2', bNic: 'eth1', aMac: '02:00:00:00:00:01', bMac: '02:00:00:00:00:02', evidence: [] },
  mtu: { mtu: 1500, why: 'standard' },
  notes: [],
};

const mirror: MirrorStored = {
  version: 1,
  resource: 'r0',
  minor: 0,
  device: '/dev/drbd0',
  port: 7789,
  hosts: { A, B },
  names: { A: 'lsa', B: 'lsb' },
  unames: { A: 'lsa' },
  addresses: { A: '10.99.0.1', B: '10.99.0.2' },
  disks: { A: '/dev/vdb', B: '/dev/vdb' },
  wiped: [],
  initialized: ['A', 'B'],
  flavour: '9',
  linkMiBps: 110,
  resyncRateKiB: 40960,
  complete: true,
  primary: 'A',
  initialSync: { mode: 'blank', kib: 65536, seconds: 1, mibPerSec: null, at: 2 },
  resyncMark: { A: 1, B: 0 },
};

const agent: AgentRecord = {
  state: 'deployed',
  cluster: 'c0ffee',
  timeoutMs: 1500,
  pairSince: 1,
  hosts: [
    {
      host: A,
      name: 'lsa',
      role: 'primary',
      how: 'direct',
      publicIp: '198.18.77.11',
      witness: '198.18.77.2:7790',
      crossover: '10.99.0.1',
      vmFiles: 'primary',
      replNode: 'replication0',
    },
    {
      host: B,
      name: 'lsb',
      role: 'secondary',
      how: 'systemd',
      publicIp: '198.18.77.12',
      witness: '198.18.77.2:7790',
      crossover: '10.99.0.2',
      vmFiles: 'secondary',
    },
  ],
  witness: { kind: 'local', listen: '198.18.77.2:7790', netns: 'lscli' },
  deployedAt: 3,
};

const preflight: LastPreflight = {
  at: 4,
  refs: ['lsa', 'lsb'],
  report: {
    hosts: [{ hostId: A, name: 'lsa', kernel: '6.1.0', accel: 'tcg', qemu: '7.2.0', drbd: null, memoryMiB: 2048, gatherMs: 300 }],
    findings: [{ id: 'drbd-module', level: 'fail', what: 'No DRBD module', why: 'w', fix: 'modprobe drbd', host: 'lsa', blocks: 'mirror' }],
    verdict: { tier: 'lockstep', why: 'w' },
    clockOffsetSeconds: null,
    seconds: 1.2,
  },
};

const skip: MirrorSkip = { hosts: [A, B], at: 5 };

const lab: LabRecord = {
  state: 'up',
  flavour: 'kernel',
  kernel: { kind: 'uml', why: 'no KVM' },
  layout: planLayout('lt', { A: 2, B: 1 }, (n) => new Uint8Array(n).fill(0xab)),
  accel: 'tcg',
  dir: '/tmp/lab',
  keyFile: '/tmp/lab/id',
  hosts: { lsa: { fingerprint: 'SHA256:x', pid: 42 }, lsb: { fingerprint: 'SHA256:y', off: true } },
  startedAt: 6,
};

interface Case {
  key: string;
  schema: z.ZodType<unknown>;
  good: unknown;
  /** the good record broken in one field, and that field's name in the message */
  corrupt: (r: never) => unknown;
  field: string;
  options: RecordOptions;
}

const cases: Case[] = [
  {
    key: 'link',
    schema: linkStoredSchema,
    good: link,
    corrupt: (r: LinkStored) => ({ ...r, record: { ...r.record, ends: [r.record.ends[0]] } }),
    field: 'record.ends',
    options: { redo: 'lockstep link setup A B' },
  },
  {
    key: 'link.work',
    schema: linkWorkSchema,
    good: work,
    corrupt: (r: LinkWork) => ({ ...r, mtu: { mtu: '1500' } }),
    field: 'mtu.mtu',
    options: { redo: 'lockstep link setup A B' },
  },
  {
    key: 'mirror',
    schema: mirrorStoredSchema,
    good: mirror,
    corrupt: (r: MirrorStored) => ({ ...r, primary: 'C' }),
    field: 'primary',
    options: { redo: 'lockstep mirror setup' },
  },
  {
    key: 'mirror-skip',
    schema: mirrorSkipSchema,
    good: skip,
    corrupt: (r: MirrorSkip) => ({ ...r, hosts: 'lsa lsb' }),
    field: 'hosts',
    options: { redo: 'lockstep mirror skip', overwrites: true },
  },
  {
    key: 'agent',
    schema: agentRecordSchema,
    good: agent,
    corrupt: (r: AgentRecord) => ({ ...r, witness: { kind: 'local' } }),
    field: 'witness.listen',
    options: { redo: 'lockstep agent deploy' },
  },
  {
    key: 'preflight',
    schema: lastPreflightSchema,
    good: preflight,
    corrupt: (r: LastPreflight) => ({ ...r, report: { ...r.report, findings: [{ id: 'x', level: 'bad' }] } }),
    field: 'report.findings.0.level',
    options: { redo: 'lockstep preflight run HOST_A HOST_B', overwrites: true },
  },
  {
    key: 'lab',
    schema: labRecordSchema,
    good: lab,
    corrupt: (r: LabRecord) => ({ ...r, layout: { ...r.layout, hosts: [] } }),
    field: 'layout.hosts',
    options: { redo: 'lockstep lab down && lockstep lab up' },
  },
];

function withStore(f: (store: Store) => void): void {
  const dir = tempDir();
  const store = Store.open(join(dir.path, 'lockstep.db'));
  try {
    f(store);
  } finally {
    store.close();
    dir.remove();
  }
}

describe("each module's record, validated on read", () => {
  for (const c of cases) {
    it(`${c.key}: a good record round-trips unchanged`, () =>
      withStore((store) => {
        const repo = new RecordRepo(store.kv, c.key, c.schema, c.options);
        expect(repo.get()).toBeUndefined();
        repo.set(c.good);
        expect(repo.get()).toEqual(c.good);
        repo.delete();
        expect(repo.get()).toBeUndefined();
      }));

    it(`${c.key}: a corrupt record is an error naming the key, the field and the fix`, () =>
      withStore((store) => {
        const repo = new RecordRepo(store.kv, c.key, c.schema, c.options);
        store.kv.set(c.key, c.corrupt(c.good as never));
        let error: { code?: string; message?: string; fix?: string; details?: unknown } = {};
        try {
          repo.get();
        } catch (e) {
          error = e as typeof error;
        }
        expect(error.code).toBe('store-record-invalid');
        expect(error.message).toContain(`stored ${c.key} record`);
        expect(error.message).toContain(c.field);
        expect(error.details).toEqual({ key: c.key });
        expect(error.fix).toContain(c.options.redo);
        if (!c.options.overwrites) expect(error.fix).toContain(`DELETE FROM kv WHERE key = '${c.key}'`);
        store.kv.set(c.key, 'not a record');
        expect(() => repo.get()).toThrowError(expect.objectContaining({ code: 'store-record-invalid' }));
      }));
  }
});
