/** DTOs of the virtual lab. */

export type LabFlavour = 'namespaces' | 'kernel';

export interface LabHostDTO {
  name: string;
  /** address on the public bridge */
  address: string;
  port: number;
  /** SHA256:… fingerprint of its sshd host key */
  fingerprint: string;
  netns: string;
  pids: number[];
  nics: { name: string; mac: string; role: 'public' | 'crossover' | 'decoy' }[];
}

export type LabStatus =
  | { state: 'down' }
  | { state: 'partial'; leftovers: string[]; fix: string }
  | {
      state: 'up';
      flavour: LabFlavour;
      accel: 'kvm' | 'tcg';
      /** what a person reads: "emulated: demo speed" under TCG */
      accelNote: string;
      publicCidr: string;
      desktopAddress: string;
      clientNetns: string;
      clientAddress: string;
      hosts: LabHostDTO[];
      user: string;
      keyFile: string;
      startedAt: number;
    };
