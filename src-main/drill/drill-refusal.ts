/** Why a drill cannot run on the pair as it is now, by its state: what is going on and what to do (pure). */
import { LockstepError } from '../contract/errors.js';
import type { PairStatus } from '../contract/lockstep.js';

export function drillRefusal(s: PairStatus): LockstepError | null {
  if (s.state === 'lockstep') {
    // a user VM is watched on the TCP port named at protect; without one the meter has nothing of it to watch
    if (s.vm && s.vm.port === undefined)
      return new LockstepError({
        code: 'drill-no-port',
        message: `The drills' meter watches a TCP port of the guest as a client would; this pair runs your VM (${s.vm.source}) and no port of it was named at protect, so a drill could not see what a client saw.`,
        fix: `Stop the pair and protect it again naming a port its service listens on: lockstep lockstep stop, then lockstep lockstep protect A B --disk ${s.vm.source} --memory ${s.vm.memoryMiB} --cpus ${s.vm.cpus} --port PORT (e.g. 22 for SSH).`,
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
