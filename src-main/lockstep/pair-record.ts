/** What the store remembers about the COLO pair (kv key `pair`). */
export interface PairRecord {
  state: 'starting' | 'lockstep' | 'failed-over' | 'stopped';
  /** host identities (address:port) in their CURRENT roles */
  primary: string;
  secondary: string;
  accel: 'kvm' | 'tcg';
  qemuMajor: number;
  /** crossover addresses of the primary and the secondary */
  xa: string;
  xb: string;
  guestAddress: string;
  guestCidr: string;
  since: number;
  diskSync: 'drbd' | 'full-copy' | 'fresh';
  failedAt?: number;
  lost?: string;
}

export const PAIR_KEY = 'pair';

/** Fixed places on every host (private per host in the virtual lab). */
export const HOST_PATHS = {
  lib: '/var/lib/lockstep/guest',
  run: '/run/lockstep/vm',
  shim: '/var/lib/lockstep/lib/libcolo-tcg-shim.so',
  tap: 'lsvm0',
  bridge: 'br0',
} as const;

export const GUEST = { memory: '131080k', mac: '52:54:00:4c:53:01' } as const;
