/** DTOs of hosts: discovery candidates and pinned hosts. */

export interface HostCandidate {
  address: string;
  port: number;
  /** the SSH banner, e.g. SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6 */
  banner: string;
  /** reverse DNS, ssh_config alias or mDNS name, when known */
  name?: string;
  source: 'scan' | 'ssh-config' | 'mdns';
  /** already added (pinned) */
  known: boolean;
}

export interface DiscoveryResult {
  scanned: string[];
  addressesProbed: number;
  candidates: HostCandidate[];
  notes: string[];
  seconds: number;
}

export interface HostDTO {
  id: number;
  /** address:port — a host's identity everywhere, with its key */
  hostId: string;
  address: string;
  port: number;
  name: string;
  user: string;
  keyFile?: string;
  fingerprint: string;
  keyType: string;
  sudo: boolean;
  addedAt: number;
  lastSeen?: number;
}
