import { connect } from 'node:net';

/**
 * One TCP connect to a port of a user's VM from this machine (the desktop is on the guests' public
 * network): the traffic protect's serving check needs when the guest is not the demo guest. Resolves
 * when the guest accepted, rejects after `timeoutMs` or on a refusal.
 */
export function tcpAnswers(address: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: address, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${address}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.end();
      resolve();
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    });
  });
}

/** What protect's serving check peeks: the demo guest's counter (undefined: the default), a user VM's named port, or nothing named. */
export function servicePeek(address: string, vm: { port?: number } | undefined): ((ms: number) => Promise<void>) | undefined | 'unnamed' {
  if (!vm) return undefined;
  const port = vm.port;
  return port === undefined ? 'unnamed' : (ms) => tcpAnswers(address, port, ms);
}
