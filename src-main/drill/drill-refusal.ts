/** Why a drill cannot run on the pair as it is now, by its state: what is going on and what to do (pure). */
import { LockstepError } from '../contract/errors.js';
import type { PairStatus } from '../contract/lockstep.js';

export function drillRefusal(s: PairStatus): LockstepError | null {
  if (s.state === 'lockstep') {
    if (s.vm)
      return new LockstepError({
        code: 'drill-demo-only',
        message: `The drills' meter watches the demo guest's counter; this pair runs your VM (${s.vm.source}), and a meter for its service is not built yet: a drill would report a failure the VM did not have.`,
        fix: "Pull the plug by hand with the host agents armed (lockstep agent deploy, then kill the primary's QEMU), or fail over: lockstep lockstep failover.",
      });
    if (s.secondaryOutput !== 'stalled') return null;
    return new LockstepError({
      code: 'secondary-stalled',
      message: "The secondary's output does not reach the comparer: a drill now would measure a pair that is not protecting the guest.",
      fix: 'Re-protect (Dashboard → Re-protect, or lockstep lockstep reprotect), then pull the plug.',
    });
  }
  if (s.state === 'starting')
    return new LockstepError({
      code: 'pair-starting',
      message:
        s.step === 'reprotecting'
          ? 'A re-protect is running: a fresh secondary is joining. The drill can run once the guest is back in lockstep.'
          : 'Protect is still starting the pair. The drill can run once the guest is in lockstep.',
      fix: 'Wait until the Dashboard says Protected (lockstep lockstep status says lockstep), then pull the plug.',
    });
  if (s.state === 'failed-over' || s.state === 'degraded')
    return new LockstepError({
      code: 'not-in-lockstep',
      message: 'The guest runs on one host alone since the last fault: there is no secondary to take over.',
      fix: 'Re-protect first (Dashboard → Re-protect, or lockstep lockstep reprotect).',
    });
  if (s.state === 'maintenance')
    return new LockstepError({
      code: 'not-in-lockstep',
      message: `${s.host.name} is in maintenance: the guest runs on ${s.survivor.name} alone.`,
      fix: `lockstep host maintenance exit ${s.host.name} (when it is back), then pull the plug.`,
    });
  return new LockstepError({
    code: 'not-in-lockstep',
    message: 'A drill needs the guest running in lockstep.',
    fix: s.state === 'error' && s.fix ? s.fix : 'Protect the guest first (Setup → Protect).',
  });
}
