/** crm_mon read over SSH from one host and parsed; null when Pacemaker does not answer there. */
import type { ClusterMonDTO } from '../contract/cluster.js';
import type { Side } from '../hosts/command.js';
import type { HostPair } from '../hosts/pair-exec.js';
import { crmMon } from './cluster-commands.js';
import { parseCrmMon } from './crm-mon.js';

export async function monOf(pair: HostPair, side: Side): Promise<ClusterMonDTO | null> {
  const r = await pair.exec(side, crmMon());
  if (r.code !== 0) return null;
  try {
    return parseCrmMon(r.stdout);
  } catch {
    return null;
  }
}
