import { join } from 'node:path';
import { LockstepError, type ClientProbeResult, type ParsedInput } from '../contract/index.js';
import type { VirtualLab } from './lab-service.js';
import { runLocal } from '../hosts/local-exec.js';

export const GUEST_HTTP_PORT = 80;
export const GUEST_STREAM_PORT = 7000;

/** `lockstep lab client …`: runs the probe inside the lab's client namespace. */
export async function runClientProbe(lab: VirtualLab, i: ParsedInput<'lab.client'>): Promise<ClientProbeResult> {
  const st = await lab.status();
  if (st.state !== 'up') throw new LockstepError({ code: 'lab-not-up', message: 'The virtual lab is not running.', fix: 'lockstep lab up' });
  const guest = lab.record()!.layout.guestAddress;
  const script = join(lab.distDir, 'main/virtual-lab/client-probe.js');
  const port = i.probe === 'stream' ? GUEST_STREAM_PORT : GUEST_HTTP_PORT;
  const r = await runLocal(
    [
      'ip',
      'netns',
      'exec',
      st.clientNetns,
      process.execPath,
      script,
      i.probe,
      guest,
      String(port),
      i.path,
      String(i.seconds),
      String(i.intervalMs),
      i.untilRecovered ? 'until-recovered' : 'whole',
    ],
    { timeoutMs: (i.seconds + 15) * 1000 },
  );
  if (r.code !== 0)
    throw new LockstepError({ code: 'probe-failed', message: 'The client probe did not run.', cause: r.stderr.trim().slice(0, 300), fix: 'npm run build' });
  return JSON.parse(r.stdout) as ClientProbeResult;
}
