import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  flavourOf,
  isNotUpError,
  kernelLogShowsSplitBrain,
  parseCstate,
  parseDrbdadmStatus,
  parseDrbdadmVersion,
  parseDstate,
  parseEvents2,
  parseProcDrbd,
  parseProcDrbdVersion,
  parseRole,
  statusFromStateCommands,
} from '../../src-main/mirror/parse.js';
import { classify, isInSync, type MirrorStatus } from '../../src-main/mirror/status.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/mirror/${name}`, import.meta.url), 'utf8');

describe('/proc/drbd (8.4)', () => {
  it('version line → flavour', () => {
    expect(parseProcDrbdVersion(fx('proc-drbd-84-connected.txt'))).toEqual({ version: '8.4.11', api: 1, proto: '86-101', flavour: '8.4' });
    expect(parseProcDrbdVersion(fx('proc-drbd-9.txt'))).toMatchObject({ version: '9.2.12', api: 2, flavour: '9' });
    expect(parseProcDrbdVersion('cat: /proc/drbd: No such file or directory')).toBeNull();
    expect(() => flavourOf('8.3.16')).toThrow(expect.objectContaining({ code: 'drbd-unsupported-version' }));
  });

  it('SyncSource: percent, rate, eta, out-of-sync, remaining/total', () => {
    expect(parseProcDrbd(fx('proc-drbd-84-sync-source.txt'))).toEqual({
      state: 'syncing',
      resource: null,
      minor: 0,
      role: 'Primary',
      peerRole: 'Secondary',
      disk: 'UpToDate',
      peerDisk: 'Inconsistent',
      cstate: 'SyncSource',
      outOfSyncKiB: 163840,
      direction: 'source',
      paused: false,
      percent: 37.5,
      rateKiBps: 37440,
      etaSeconds: 5,
      remainingKiB: 163840,
      totalKiB: 262136,
    } satisfies MirrorStatus);
  });

  it('SyncTarget (with want:) is the other direction', () => {
    expect(parseProcDrbd(fx('proc-drbd-84-sync-target.txt'), { resource: 'r0' })).toMatchObject({
      state: 'syncing',
      resource: 'r0',
      direction: 'target',
      role: 'Secondary',
      peerRole: 'Primary',
      disk: 'Inconsistent',
      peerDisk: 'UpToDate',
      percent: 37.5,
      rateKiBps: 37440,
      etaSeconds: 5,
    });
  });

  it('paused, stalled, MiB figures, hours in finish, thousands separators', () => {
    expect(parseProcDrbd(fx('proc-drbd-84-rejoin-paused-large.txt'))).toMatchObject({
      state: 'syncing',
      cstate: 'PausedSyncT',
      direction: 'target',
      paused: true,
      percent: 15.6,
      remainingKiB: 32768 * 1024,
      totalKiB: 38834 * 1024,
      outOfSyncKiB: 33554432,
      etaSeconds: 27 * 3600 + 46 * 60 + 40,
      rateKiBps: 1048576,
    });
  });

  it('Connected, both UpToDate: in sync', () => {
    const s = parseProcDrbd(fx('proc-drbd-84-connected.txt'));
    expect(s).toEqual({
      state: 'connected',
      resource: null,
      minor: 0,
      role: 'Primary',
      peerRole: 'Secondary',
      disk: 'UpToDate',
      peerDisk: 'UpToDate',
      cstate: 'Connected',
      outOfSyncKiB: 0,
    });
    expect(isInSync(s)).toBe(true);
  });

  it('WFConnection after losing the peer: connecting, peer unknown, writes since counted', () => {
    const s = parseProcDrbd(fx('proc-drbd-84-wfconnection.txt'));
    expect(s).toMatchObject({
      state: 'connecting',
      cstate: 'WFConnection',
      role: 'Primary',
      peerRole: 'Unknown',
      disk: 'UpToDate',
      peerDisk: 'DUnknown',
      outOfSyncKiB: 8192,
    });
    expect(isInSync(s)).toBe(false);
  });

  it('StandAlone (no protocol letter): standalone, or split-brain with evidence', () => {
    const text = fx('proc-drbd-84-standalone.txt');
    expect(parseProcDrbd(text)).toMatchObject({ state: 'standalone', cstate: 'StandAlone', role: 'Primary', peerDisk: 'DUnknown', outOfSyncKiB: 8192 });
    const splitBrain = kernelLogShowsSplitBrain(fx('kernel-split-brain-84.txt'), { resource: 'r0', minor: 0 });
    expect(parseProcDrbd(text, { splitBrain })).toMatchObject({ state: 'split-brain', role: 'Primary', disk: 'UpToDate', outOfSyncKiB: 8192 });
  });

  it('verify: verifying with progress', () => {
    expect(parseProcDrbd(fx('proc-drbd-84-verify.txt'))).toMatchObject({
      state: 'verifying',
      direction: 'source',
      percent: 12.5,
      rateKiBps: 65536,
      etaSeconds: 3,
      outOfSyncKiB: 0,
    });
  });

  it('unconfigured: cs:Unconfigured, or the minor not listed', () => {
    expect(parseProcDrbd(fx('proc-drbd-84-unconfigured.txt'))).toEqual({ state: 'unconfigured', resource: null, minor: 0 });
    expect(parseProcDrbd(fx('proc-drbd-84-no-devices.txt'), { minor: 0 })).toEqual({ state: 'unconfigured', resource: null, minor: 0 });
    expect(parseProcDrbd(fx('proc-drbd-84-connected.txt'), { minor: 3 })).toEqual({ state: 'unconfigured', resource: null, minor: 3 });
  });

  it('picks the requested minor among several', () => {
    const text = fx('proc-drbd-84-two-minors.txt');
    expect(parseProcDrbd(text)).toMatchObject({ state: 'connected', minor: 0, outOfSyncKiB: 0 });
    expect(parseProcDrbd(text, { minor: 2 })).toMatchObject({
      state: 'syncing',
      minor: 2,
      percent: 1.6,
      outOfSyncKiB: 258040,
      etaSeconds: 62,
      rateKiBps: 4096,
    });
  });

  it('DRBD 9 has no status in /proc/drbd: says where to look', () => {
    expect(() => parseProcDrbd(fx('proc-drbd-9.txt'))).toThrow(
      expect.objectContaining({ code: 'drbd9-no-proc-status', fix: expect.stringContaining('events2') }),
    );
  });

  it('an unknown state name is an error, not a guess', () => {
    const weird = fx('proc-drbd-84-connected.txt').replace('cs:Connected', 'cs:Frobnicating');
    expect(() => parseProcDrbd(weird)).toThrow(expect.objectContaining({ code: 'drbd-unknown-state' }));
    expect(() => parseProcDrbd(fx('proc-drbd-84-connected.txt').replace('ds:UpToDate/', 'ds:Shiny/'))).toThrow(/disk state/);
  });
});

describe('drbdsetup events2 --now --statistics (9)', () => {
  it('SyncSource: done, dbdt1 (MiB/s) → KiB/s, eta, out-of-sync', () => {
    expect(parseEvents2(fx('events2-9-sync-source.txt'))).toEqual({
      state: 'syncing',
      resource: 'r0',
      minor: 0,
      role: 'Primary',
      peerRole: 'Secondary',
      disk: 'UpToDate',
      peerDisk: 'Inconsistent',
      cstate: 'SyncSource',
      outOfSyncKiB: 163840,
      direction: 'source',
      paused: false,
      percent: 37.5,
      rateKiBps: Math.round(36.56 * 1024),
      etaSeconds: 4,
      remainingKiB: 163840,
      totalKiB: null,
    } satisfies MirrorStatus);
  });

  it('SyncTarget with eta:nan', () => {
    expect(parseEvents2(fx('events2-9-sync-target.txt'))).toMatchObject({
      state: 'syncing',
      direction: 'target',
      role: 'Secondary',
      peerRole: 'Primary',
      disk: 'Inconsistent',
      peerDisk: 'UpToDate',
      etaSeconds: null,
      rateKiBps: 0,
    });
  });

  it('Connected/Established', () => {
    const s = parseEvents2(fx('events2-9-connected.txt'), { resource: 'r0' });
    expect(s).toMatchObject({ state: 'connected', cstate: 'Established', peerRole: 'Secondary', peerDisk: 'UpToDate', outOfSyncKiB: 0 });
    expect(isInSync(s)).toBe(true);
  });

  it('Connecting (peer lost): the connection state wins over replication:Off', () => {
    expect(parseEvents2(fx('events2-9-connecting.txt'))).toMatchObject({
      state: 'connecting',
      cstate: 'Connecting',
      peerRole: 'Unknown',
      peerDisk: 'DUnknown',
      outOfSyncKiB: 8192,
    });
  });

  it('StandAlone, and split brain from a helper call in a live stream', () => {
    expect(parseEvents2(fx('events2-9-standalone.txt'))).toMatchObject({ state: 'standalone', cstate: 'StandAlone' });
    expect(parseEvents2(fx('events2-9-standalone.txt'), { splitBrain: true })).toMatchObject({ state: 'split-brain' });
    expect(parseEvents2(fx('events2-9-split-brain-stream.txt'))).toMatchObject({ state: 'split-brain', cstate: 'StandAlone', peerRole: 'Unknown' });
  });

  it('nothing listed / another resource: unconfigured', () => {
    expect(parseEvents2(fx('events2-9-unconfigured.txt'))).toEqual({ state: 'unconfigured', resource: null, minor: null });
    expect(parseEvents2(fx('events2-9-connected.txt'), { resource: 'r7' })).toEqual({ state: 'unconfigured', resource: 'r7', minor: null });
    expect(parseEvents2('')).toMatchObject({ state: 'unconfigured' });
  });

  it('a destroyed resource is gone', () => {
    const text = fx('events2-9-connected.txt') + 'destroy connection name:r0 peer-node-id:1 conn-name:hostB\ndestroy resource name:r0\n';
    expect(parseEvents2(text, { resource: 'r0' })).toMatchObject({ state: 'unconfigured' });
  });
});

describe('drbdadm status', () => {
  it('8.4 (peer called "peer"): syncing, connected, connecting, standalone', () => {
    expect(parseDrbdadmStatus(fx('status-84-sync-source.txt'))).toMatchObject({
      state: 'syncing',
      resource: 'r0',
      direction: 'source',
      percent: 37.5,
      role: 'Primary',
      peerRole: 'Secondary',
      disk: 'UpToDate',
      peerDisk: 'Inconsistent',
      outOfSyncKiB: null,
      rateKiBps: null,
      etaSeconds: null,
    });
    expect(parseDrbdadmStatus(fx('status-84-connected.txt'))).toMatchObject({
      state: 'connected',
      cstate: 'Established',
      peerRole: 'Secondary',
      peerDisk: 'UpToDate',
    });
    expect(parseDrbdadmStatus(fx('status-84-wfconnection.txt'))).toMatchObject({
      state: 'connecting',
      cstate: 'Connecting',
      peerRole: 'Unknown',
      peerDisk: 'DUnknown',
    });
    expect(parseDrbdadmStatus(fx('status-84-standalone.txt'), { splitBrain: true })).toMatchObject({ state: 'split-brain', role: 'Secondary' });
  });

  it('9 (peer called by host name, Established not printed)', () => {
    expect(parseDrbdadmStatus(fx('status-9-sync-target.txt'))).toMatchObject({
      state: 'syncing',
      direction: 'target',
      percent: 37.5,
      peerRole: 'Primary',
      disk: 'Inconsistent',
    });
    const ok = parseDrbdadmStatus(fx('status-9-connected.txt'));
    expect(ok).toEqual({
      state: 'connected',
      resource: 'r0',
      minor: null,
      role: 'Primary',
      peerRole: 'Secondary',
      disk: 'UpToDate',
      peerDisk: 'UpToDate',
      cstate: 'Established',
      outOfSyncKiB: null,
    });
    expect(isInSync(ok)).toBe(true);
    expect(parseDrbdadmStatus(fx('status-9-connecting.txt'))).toMatchObject({ state: 'connecting' });
    expect(parseDrbdadmStatus(fx('status-9-standalone.txt'))).toMatchObject({ state: 'standalone', peerRole: 'Unknown' });
  });

  it('--statistics wrapped at 80 columns, several resources', () => {
    const text = fx('status-9-statistics-sync.txt');
    expect(parseDrbdadmStatus(text, { resource: 'r0' })).toMatchObject({
      state: 'syncing',
      percent: 37.5,
      outOfSyncKiB: 163840,
      rateKiBps: Math.round(36.56 * 1024),
      etaSeconds: 4,
    });
    expect(parseDrbdadmStatus(text, { resource: 'r1' })).toMatchObject({ state: 'connected', resource: 'r1', role: 'Secondary', peerRole: 'Primary' });
    expect(parseDrbdadmStatus(text, { resource: 'r2' })).toEqual({ state: 'unconfigured', resource: 'r2', minor: null });
  });

  it('empty output (drbdadm said "No such resource") is unconfigured', () => {
    expect(parseDrbdadmStatus('', { resource: 'r0' })).toEqual({ state: 'unconfigured', resource: 'r0', minor: null });
    expect(isNotUpError('r0: No such resource\n')).toBe(true);
    expect(isNotUpError("'r0' not defined in your config (for this host).")).toBe(false);
  });
});

describe('drbdadm cstate / dstate / role', () => {
  it('8.4 outputs', () => {
    expect(parseCstate('WFConnection\n')).toBe('WFConnection');
    expect(parseCstate('Unconfigured\n')).toBeNull();
    expect(parseCstate('')).toBeNull();
    expect(parseDstate('UpToDate/DUnknown\n')).toEqual({ disk: 'UpToDate', peerDisk: 'DUnknown' });
    expect(parseRole('Primary/Unknown\n')).toEqual({ role: 'Primary', peerRole: 'Unknown' });
    expect(
      statusFromStateCommands({ cstate: 'SyncTarget\n', dstate: 'Inconsistent/UpToDate\n', role: 'Secondary/Primary\n' }, { resource: 'r0' }),
    ).toMatchObject({
      state: 'syncing',
      direction: 'target',
      resource: 'r0',
      percent: null,
      peerRole: 'Primary',
    });
    expect(statusFromStateCommands({ cstate: 'WFConnection', dstate: 'UpToDate/DUnknown', role: 'Primary/Unknown' })).toMatchObject({ state: 'connecting' });
    expect(statusFromStateCommands({ cstate: 'Unconfigured', dstate: 'Unconfigured', role: 'Unconfigured' })).toMatchObject({ state: 'unconfigured' });
  });

  it('fresh pair before the first sync: connected, both Inconsistent (not syncing)', () => {
    for (const role of ['Secondary/Secondary', 'Secondary'])
      expect(statusFromStateCommands({ cstate: 'Connected', dstate: 'Inconsistent/Inconsistent', role })).toMatchObject({
        state: 'connected',
        disk: 'Inconsistent',
      });
  });

  it('9 outputs: cstate stops at Connected, disks tell a running sync', () => {
    expect(parseRole('Primary\n')).toEqual({ role: 'Primary', peerRole: 'Unknown' });
    expect(statusFromStateCommands({ cstate: 'Connected', dstate: 'UpToDate/Inconsistent', role: 'Primary' })).toMatchObject({
      state: 'syncing',
      direction: 'source',
      percent: null,
    });
    expect(statusFromStateCommands({ cstate: 'Connected', dstate: 'UpToDate/UpToDate', role: 'Primary' }, { flavour: '9' })).toMatchObject({
      state: 'connected',
      cstate: 'Established',
    });
    expect(statusFromStateCommands({ cstate: 'StandAlone', dstate: 'UpToDate/DUnknown', role: 'Primary' }, { splitBrain: true })).toMatchObject({
      state: 'split-brain',
    });
    expect(() => parseCstate('r0: No such connection')).toThrow(expect.objectContaining({ code: 'drbd-unparsable' }));
  });
});

describe('versions and split-brain evidence', () => {
  it('drbdadm --version', () => {
    const out = 'DRBDADM_API_VERSION=2\nDRBD_KERNEL_VERSION_CODE=0x08040b\nDRBD_KERNEL_VERSION=8.4.11\nDRBDADM_VERSION_CODE=0x091600\nDRBDADM_VERSION=9.22.0\n';
    expect(parseDrbdadmVersion(out)).toEqual({ utils: '9.22.0', kernel: '8.4.11' });
    expect(parseDrbdadmVersion('DRBD_KERNEL_VERSION=0\nDRBDADM_VERSION=9.22.0\n')).toEqual({ utils: '9.22.0', kernel: null });
  });

  it('kernel log: unresolved split brain, per resource and minor, cleared by a later good handshake', () => {
    expect(kernelLogShowsSplitBrain(fx('kernel-split-brain-84.txt'), { resource: 'r0', minor: 0 })).toBe(true);
    expect(kernelLogShowsSplitBrain(fx('kernel-split-brain-84.txt'), { resource: 'r1', minor: 1 })).toBe(false);
    expect(kernelLogShowsSplitBrain(fx('kernel-split-brain-84-resolved.txt'), { resource: 'r0', minor: 0 })).toBe(false);
    expect(kernelLogShowsSplitBrain(fx('kernel-split-brain-9.txt'), { resource: 'r0', minor: 0 })).toBe(true);
    expect(kernelLogShowsSplitBrain(fx('kernel-split-brain-9.txt'), { resource: 'r1', minor: 1 })).toBe(false);
    expect(kernelLogShowsSplitBrain('', { resource: 'r0', minor: 0 })).toBe(false);
  });
});

describe('classification', () => {
  const o = {
    resource: 'r0',
    minor: 0,
    role: 'Secondary',
    peerRole: 'Primary',
    disk: 'Outdated',
    peerDisk: 'UpToDate',
    connection: 'Connected',
    replication: null,
    outOfSyncKiB: null,
    percent: null,
    rateKiBps: null,
    etaSeconds: null,
    remainingKiB: null,
    totalKiB: null,
    resyncSuspended: false,
    splitBrain: false,
  } as const;

  it.each([
    ['StandAlone', 'standalone'],
    ['Unconnected', 'connecting'],
    ['WFConnection', 'connecting'],
    ['WFReportParams', 'connecting'],
    ['NetworkFailure', 'disconnected'],
    ['BrokenPipe', 'disconnected'],
    ['Timeout', 'disconnected'],
    ['ProtocolError', 'disconnected'],
    ['Disconnecting', 'disconnected'],
    ['TearDown', 'disconnected'],
    ['Connected', 'connected'],
    ['Ahead', 'connected'],
    ['Behind', 'connected'],
    ['WFBitMapT', 'syncing'],
    ['WFSyncUUID', 'syncing'],
    ['StartingSyncS', 'syncing'],
    ['SyncSource', 'syncing'],
    ['PausedSyncT', 'syncing'],
    ['VerifyT', 'verifying'],
  ])('8.4 %s → %s', (cs, state) => {
    expect(classify({ ...o, connection: cs }).state).toBe(state);
  });

  it('sync handshake states count as syncing at 0 %, in the right direction', () => {
    expect(classify({ ...o, connection: 'WFBitMapT' })).toMatchObject({ direction: 'target', percent: 0 });
    expect(classify({ ...o, connection: 'StartingSyncS' })).toMatchObject({ direction: 'source', percent: 0 });
    expect(classify({ ...o, connection: 'WFSyncUUID' })).toMatchObject({ direction: 'target' });
  });

  it('9: a Connected connection is classified by its replication state', () => {
    expect(classify({ ...o, replication: 'Off' }).state).toBe('connecting');
    expect(classify({ ...o, replication: 'Established' }).state).toBe('connected');
    expect(classify({ ...o, replication: 'SyncTarget', resyncSuspended: true })).toMatchObject({ state: 'syncing', paused: true });
    expect(classify({ ...o, connection: 'Connecting', replication: 'Off' })).toMatchObject({ state: 'connecting', cstate: 'Connecting' });
  });
});
