/**
 * crm_mon's XML → ClusterMonDTO, on output captured from real clusters on the kernel lab
 * (test/fixtures/crm-mon/README.md says how each was made), and on broken input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockstepError } from '../../src-main/contract/errors.js';
import { parseCrmMon, promotedNode, runningOn } from '../../src-main/cluster/crm-mon.js';
import { parseXml } from '../../src-main/cluster/xml.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/crm-mon', name), 'utf8');

describe('crm_mon on a healthy two-node cluster', () => {
  const m = parseCrmMon(fixture('healthy.xml'));
  it('both nodes online, one DC, quorate, fencing off as configured', () => {
    expect(m.nodes.map((n) => [n.name, n.online, n.unclean])).toEqual([
      ['hosta', true, false],
      ['hostb', true, false],
    ]);
    expect(m.nodes.filter((n) => n.isDc).map((n) => n.name)).toEqual([m.dc!.name]);
    expect(m.quorate).toBe(true);
    expect(m.stonithEnabled).toBe(false);
    expect(m.pacemakerVersion).toMatch(/^2\.1\.5/);
  });
  it('DRBD: two instances of the clone, one Promoted and one Unpromoted, each on its node', () => {
    const drbd = m.resources.filter((r) => r.parent === 'ms_drbd_r0');
    expect(drbd.map((r) => r.agent)).toEqual(['ocf:linbit:drbd', 'ocf:linbit:drbd']);
    expect(drbd.map((r) => r.role).sort()).toEqual(['Promoted', 'Unpromoted']);
    expect(drbd.every((r) => r.active && !r.failed && r.nodes.length === 1)).toBe(true);
    expect(promotedNode(m, 'ms_drbd_r0')).toMatch(/^host[ab]$/);
    expect(m.failures).toEqual([]);
  });
});

describe('crm_mon after the promoted host was powered off', () => {
  const m = parseCrmMon(fixture('peer-off.xml'));
  it('the lost node is offline, the survivor is DC, quorate (two_node) and promoted', () => {
    const off = m.nodes.find((n) => !n.online)!;
    const on = m.nodes.find((n) => n.online)!;
    expect(off).toBeDefined();
    expect(m.dc!.name).toBe(on.name);
    expect(m.quorate).toBe(true);
    expect(promotedNode(m, 'ms_drbd_r0')).toBe(on.name);
    const stopped = m.resources.filter((r) => r.parent === 'ms_drbd_r0' && !r.active);
    expect(stopped.map((r) => r.role)).toEqual(['Stopped']);
  });
});

describe('crm_mon with a failed action', () => {
  const m = parseCrmMon(fixture('failed-action.xml'));
  it('names the resource, the operation, the node, the exit code, the reason and when', () => {
    expect(m.failures.length).toBe(1);
    const f = m.failures[0]!;
    expect(f.resource).toBe('p_drbd_r0');
    // crm_resource --fail records its failure as an "asyncmon" operation
    expect(f.task).toBe('asyncmon');
    expect(f.exitReason).toBe('Simulated failure');
    expect(f.node).toMatch(/^host[ab]$/);
    expect(f.exitCode).not.toBe(0);
    expect(f.exitStatus).not.toBe('');
    expect(f.at).toMatch(/\d{4}/);
  });
});

describe('broken input', () => {
  const refusal = (xml: string) => {
    try {
      parseCrmMon(xml);
    } catch (e) {
      expect(e).toBeInstanceOf(LockstepError);
      expect((e as LockstepError).code).toBe('cluster-status-unreadable');
      expect((e as LockstepError).fix).toMatch(/crm_mon/);
      return e as LockstepError;
    }
    throw new Error('expected a refusal');
  };
  it('refuses what is not crm_mon XML, and crm_mon reporting an error', () => {
    refusal('');
    refusal('crm_mon: Error: cluster is not available on this node');
    refusal('<html><body/></html>');
    refusal('<pacemaker-result><summary>');
    expect(refusal('<pacemaker-result api-version="2.25"><status code="102" message="Not connected"/></pacemaker-result>').causeText).toMatch(/Not connected/);
  });
  it('no DC yet: not quorate, dc null', () => {
    const m = parseCrmMon(
      '<pacemaker-result><summary><current_dc present="false"/></summary><nodes><node name="hosta" id="1" online="true"/></nodes><resources/><status code="0" message="OK"/></pacemaker-result>',
    );
    expect(m.dc).toBeNull();
    expect(m.quorate).toBe(false);
    expect(runningOn(m, 'p_drbd_r0')).toBeNull();
  });
  it('the XML reader decodes entities and refuses mismatched tags', () => {
    expect(parseXml('<a x="&lt;&amp;&#65;&#x42;"/>').attrs.x).toBe('<&AB');
    expect(() => parseXml('<a><b></a>')).toThrow();
  });
});
