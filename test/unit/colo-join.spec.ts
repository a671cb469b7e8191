import { describe, expect, it } from 'vitest';
import { coloObjects, proxyChardevs, replicationNode } from '../../src-main/lockstep/colo-join.js';
import { PORTS } from '../../src-main/lockstep/colo-args.js';
import { vmFiles, type PairRecord } from '../../src-main/lockstep/pair-record.js';

describe('joining COLO over QMP (pure parts)', () => {
  it('proxy sockets: the crossover servers listen on the primary’s crossover address, each loopback server before its client', () => {
    const c = proxyChardevs('10.99.0.1');
    expect(c.map((x) => x.id)).toEqual(['mirror0', 'compare1', 'compare0', 'compare0-0', 'compare_out', 'compare_out0']);
    const data = (id: string) => c.find((x) => x.id === id)!.backend.data;
    expect(data('mirror0')).toMatchObject({ server: true, wait: false, addr: { data: { host: '10.99.0.1', port: String(PORTS.mirror) } } });
    expect(data('compare1').addr.data.port).toBe(String(PORTS.compare));
    expect(data('compare0-0')).toMatchObject({ server: false, addr: { data: { host: '127.0.0.1', port: String(PORTS.compareLoop) } } });
    expect(data('compare0-0')).not.toHaveProperty('wait');
    // a server always comes before the client that connects to it
    for (const [server, client] of [
      ['compare0', 'compare0-0'],
      ['compare_out', 'compare_out0'],
    ])
      expect(c.findIndex((x) => x.id === server)).toBeLessThan(c.findIndex((x) => x.id === client));
  });

  it('filters: a fresh primary gets plain filters; a former secondary’s go before its rewriter', () => {
    const fresh = coloObjects(false);
    expect(fresh.map((o) => o.id)).toEqual(['m0', 'redire0', 'redire1', 'iothread1', 'comp0']);
    expect(fresh.every((o) => !('insert' in o))).toBe(true);
    const former = coloObjects(true);
    const filters = former.filter((o) => String(o['qom-type']).startsWith('filter-'));
    expect(filters).toHaveLength(3);
    for (const f of filters) expect(f).toMatchObject({ insert: 'before', position: 'id=rew0', netdev: 'hn0' });
    expect(former.find((o) => o.id === 'comp0')).toMatchObject({
      primary_in: 'compare0-0',
      secondary_in: 'compare1',
      outdev: 'compare_out0',
      iothread: 'iothread1',
    });
  });

  it('replication child: named per generation so a long-lived QEMU can join COLO again', () => {
    const g1 = replicationNode('10.99.0.2', 1);
    const g2 = replicationNode('10.99.0.2', 2);
    expect(g1).toMatchObject({ replNode: 'replication1', nbdNode: 'nbd1' });
    expect(g2.replNode).not.toBe(g1.replNode);
    expect(g1.args).toEqual({
      driver: 'replication',
      'node-name': 'replication1',
      mode: 'primary',
      file: { driver: 'nbd', 'node-name': 'nbd1', export: 'parent0', server: { type: 'inet', host: '10.99.0.2', port: String(PORTS.nbd) } },
    });
  });

  it('file sets: the primary host runs the QEMU it was started with; a secondary is always a fresh “secondary”', () => {
    const r = { primaryVm: undefined } as unknown as PairRecord;
    expect(vmFiles(r, 'primary')).toBe('primary');
    expect(vmFiles({ ...r, primaryVm: 'secondary' }, 'primary')).toBe('secondary');
    expect(vmFiles({ ...r, primaryVm: 'secondary' }, 'secondary')).toBe('secondary');
  });
});
