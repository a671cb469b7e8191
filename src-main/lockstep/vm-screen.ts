import { LockstepError } from '../contract/index.js';
import { HOST_PATHS, vmPaths } from '../hosts/vm-layout.js';
import { vmFiles, type PairRecord } from './pair-record.js';

/** What the screen's locator needs of the lockstep service: the pair's record and where a VM's serial console is. */
export interface ScreenSource {
  record(): PairRecord | undefined;
  consoleOf(side: 'primary' | 'secondary'): Promise<{ host: string; title: string }>;
}

/**
 * Where a VM's screen is: QEMU's VNC socket on the VM's host, for a user VM. The demo guest has no
 * screen (refused with the fix); no guest, or no secondary after a failover, is refused as for the
 * serial console.
 */
export async function screenOf(lockstep: ScreenSource, side: 'primary' | 'secondary'): Promise<{ host: string; socket: string; title: string }> {
  const r = lockstep.record();
  if (r && r.state !== 'stopped' && !r.vm)
    throw new LockstepError({
      code: 'no-screen',
      message: 'The demo guest has no screen: its serial console is its only console.',
      fix: 'Use the serial console (Consoles view); a VM of your own protected with --disk gets a graphical console.',
    });
  const loc = await lockstep.consoleOf(side);
  return { host: loc.host, socket: vmPaths(HOST_PATHS.run, vmFiles(r!, side)).vnc, title: `${loc.title} screen` };
}
