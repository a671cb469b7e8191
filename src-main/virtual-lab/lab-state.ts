import type { LabFlavour, LabKernelHosts } from '../contract/index.js';
import type { LabLayout } from './topology.js';

/** What the store remembers about the lab (kv key `lab`). */
export interface LabRecord {
  state: 'starting' | 'up' | 'stopping';
  flavour: LabFlavour;
  /** kernel flavour: how its hosts run their kernel, and why (decided once, at `lab up`) */
  kernel?: LabKernelHosts;
  layout: LabLayout;
  accel: 'kvm' | 'tcg';
  dir: string;
  keyFile: string;
  /** `off`: powered off by a drill (its processes killed, its NICs down) until `lab power NAME on` */
  hosts: Record<string, { fingerprint: string; pid?: number; off?: boolean }>;
  startedAt: number;
}

export const LAB_KEY = 'lab';
