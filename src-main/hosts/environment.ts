import type { LabStatus } from '../contract/index.js';

/**
 * The Environment seam: what capabilities may ask of the place their hosts live in. The
 * virtual lab implements it (virtual-lab/lab-service.ts); capabilities see only this interface,
 * never virtual-lab/. Real hosts are the plain case: `status()` answers `{ state: 'down' }` and
 * there is nothing to power or cut from here.
 */
export interface Environment {
  /** the lab as it runs now ({ state: 'down' } for real hosts): addresses, keys, client namespace */
  status(): Promise<LabStatus>;
  /** pull a host's plug (lab hosts only) */
  powerOff(host: string): Promise<LabStatus>;
  /** one kind of a host's cables cut or plugged back (lab hosts only); returns the NICs touched */
  setLinks(host: string, role: 'public' | 'crossover', up: boolean): Promise<string[]>;
  /** QEMU processes running on a host, seen from outside it (lab namespace hosts only) */
  vmsRunning(host: string): Promise<number>;
}
