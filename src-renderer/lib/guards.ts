import type { HostDTO, LabStatus, PairStatus } from '../../src-main/contract/index.js';
import type { ConfirmRequest } from './confirm.svelte.js';

/** The hosts a running guest's VMs are on (empty when no VM runs). */
export function vmHosts(pair: PairStatus | null): { host: string; name: string; role: string }[] {
  if (!pair) return [];
  switch (pair.state) {
    case 'lockstep':
    case 'starting':
      return [
        { host: pair.primary.host, name: pair.primary.name, role: 'primary VM' },
        { host: pair.secondary.host, name: pair.secondary.name, role: 'secondary VM' },
      ];
    case 'failed-over':
      return [{ host: pair.survivor.host, name: pair.survivor.name, role: 'only VM (the survivor)' }];
    case 'maintenance':
      return [{ host: pair.survivor.host, name: pair.survivor.name, role: 'only VM (the other host is in maintenance)' }];
    case 'degraded':
      return [{ host: pair.primary.host, name: pair.primary.name, role: 'primary VM' }];
    default:
      return [];
  }
}

const stopFirst = (then: string): string[] => ['Stop the guest (Dashboard → Stop the guest): both VMs shut down in order.', then];

/** Remove lab: refused while the guest's VMs run on the lab's hosts; otherwise names what goes. */
export function removeLabRequest(lab: LabStatus | null, pair: PairStatus | null): ConfirmRequest {
  const names = lab?.state === 'up' ? lab.hosts.map((h) => h.name) : [];
  const running = vmHosts(pair);
  const req: ConfirmRequest = {
    title: 'Remove the virtual lab?',
    destroys:
      lab?.state === 'up'
        ? [
            `the lab hosts ${names.join(' and ')}: their network namespaces, sshd and every disk and file made in them`,
            `the lab's public network ${lab.publicCidr}, the crossover cable and the client namespace ${lab.clientNetns}`,
            'the hosts added from the lab stay listed until you forget them',
          ]
        : ['every namespace, link and process the lab left over'],
    confirmLabel: 'Remove the lab',
  };
  if (running.length)
    req.refusal = {
      why: `The guest runs now (${running.map((r) => `${r.role} on ${r.name}`).join(', ')}): removing the lab would kill ${running.length > 1 ? 'both VMs' : 'it'} at once.`,
      safeOrder: stopFirst('Then remove the lab.'),
    };
  return req;
}

/** Forget a host: refused while a VM of the guest runs there; otherwise names what is forgotten. */
export function forgetHostRequest(h: HostDTO, pair: PairStatus | null): ConfirmRequest {
  const here = vmHosts(pair).find((r) => r.host === h.hostId);
  const req: ConfirmRequest = {
    title: `Forget ${h.name}?`,
    destroys: [
      `${h.name} (${h.hostId}) in this app's list of hosts`,
      `its pinned host key ${h.fingerprint}: the next contact asks you to confirm the key again`,
      'nothing on the host itself is changed',
    ],
    confirmLabel: `Forget ${h.name}`,
  };
  if (here)
    req.refusal = {
      why: `${h.name} runs the ${here.role} of the protected guest: forgetting it would leave that VM running with nobody watching it.`,
      safeOrder: stopFirst(`Then forget ${h.name}.`),
    };
  return req;
}

/** Stop the guest: names both VMs. */
export function stopGuestRequest(pair: PairStatus | null): ConfirmRequest {
  const running = vmHosts(pair);
  return {
    title: 'Stop the guest?',
    destroys: [
      ...running.map((r) => `the ${r.role} on ${r.name} (quit, then SIGTERM, then SIGKILL)`),
      'protection: until you start it again, nothing runs and nothing fails over',
    ],
    confirmLabel: 'Stop the guest',
  };
}
