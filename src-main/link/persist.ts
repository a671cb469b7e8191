/**
 * Pure: make the link survive a reboot with whatever the host already uses
 * (systemd-networkd, NetworkManager, ifupdown), and take it away again. Every file
 * carries a marker line; a file without it is never overwritten nor deleted.
 */
import { createHash } from 'node:crypto';
import { LockstepError } from '../contract/index.js';
import { undoCommands, type LinkEnd } from './addressing.js';
import { NO_DEVICE, cmd, type Argv, type HostCommand, type Side } from '../hosts/command.js';
import { SAFE_IFNAME } from './nic-candidates.js';

export type PersistenceKind = 'systemd-networkd' | 'NetworkManager' | 'ifupdown' | 'none';

export const MARKER = '# Written by Lockstep Lab for the replication link; `lockstep link remove` deletes it.';

// ── which one does the host use? ────────────────────────────────────────────────────────

export interface PersistenceFacts {
  networkdActive: boolean;
  networkManagerActive: boolean;
  /** /etc/network/interfaces exists and sources /etc/network/interfaces.d */
  interfacesSourcesDir: boolean;
  /** /etc/network/interfaces exists at all */
  interfacesExists?: boolean;
  /** NetworkManager runs but says the NIC is unmanaged (it would ignore a keyfile) */
  nmUnmanaged?: boolean;
}

export interface PersistenceChoice {
  kind: PersistenceKind;
  why: string;
  /** shown in the wizard and the CLI when the link will not survive a reboot */
  warning?: string;
}

/** The read-only commands whose output fills `PersistenceFacts`. */
export function persistenceFactCommands(nic: string): { units: Argv; interfaces: Argv; nmDevice: Argv } {
  return {
    // prints one line per unit (active / inactive / unknown); exits non-zero unless all are active
    units: ['systemctl', 'is-active', 'systemd-networkd.service', 'NetworkManager.service'],
    interfaces: ['cat', '/etc/network/interfaces'],
    nmDevice: ['nmcli', '-t', '-f', 'GENERAL.STATE', 'device', 'show', nic],
  };
}

/** Pure: `systemctl is-active systemd-networkd.service NetworkManager.service` stdout (no systemd = neither). */
export function parseUnitsActive(stdout: string): { networkdActive: boolean; networkManagerActive: boolean } {
  const [n, m] = stdout.split('\n').map((l) => l.trim());
  return { networkdActive: n === 'active', networkManagerActive: m === 'active' };
}

/** Pure: does /etc/network/interfaces pull in /etc/network/interfaces.d? */
export function sourcesInterfacesD(text: string): boolean {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .some((l) => /^source(-directory)?\s+(\/etc\/network\/)?interfaces\.d(\/\*?)?$/.test(l));
}

/** Pure: `nmcli -t -f GENERAL.STATE device show IFACE` → is it unmanaged? */
export function parseNmUnmanaged(stdout: string): boolean {
  return /^GENERAL\.STATE:\d+ \(unmanaged\)/m.test(stdout);
}

export function choosePersistence(f: PersistenceFacts, hostName = 'this host'): PersistenceChoice {
  if (f.networkManagerActive && !f.nmUnmanaged) {
    return {
      kind: 'NetworkManager',
      why: `NetworkManager runs on ${hostName}${f.networkdActive ? ' (so does systemd-networkd; NetworkManager manages the NIC)' : ''}`,
    };
  }
  if (f.networkdActive) return { kind: 'systemd-networkd', why: `systemd-networkd runs on ${hostName}` };
  if (f.interfacesSourcesDir) return { kind: 'ifupdown', why: `${hostName} uses ifupdown (/etc/network/interfaces sources interfaces.d)` };
  const extra =
    f.interfacesExists && !f.interfacesSourcesDir
      ? ' To use ifupdown, add `source /etc/network/interfaces.d/*` to /etc/network/interfaces and run `lockstep link setup` again.'
      : f.networkManagerActive && f.nmUnmanaged
        ? ' NetworkManager runs but leaves this NIC unmanaged.'
        : '';
  return {
    kind: 'none',
    why: `no systemd-networkd, NetworkManager or ifupdown in use on ${hostName}`,
    warning: `The link works now but will not survive a reboot of ${hostName}: nothing there would configure it at boot.${extra}`,
  };
}

// ── the files ───────────────────────────────────────────────────────────────────────────

export interface LinkPersistParams {
  nic: string;
  mac: string;
  /** 10.99.0.1/30 */
  address: string;
  mtu: number;
  /** the other end, for the comment only: `hostB eth1 10.99.0.2` */
  peer?: string;
}

export interface PersistFile {
  path: string;
  /** octal, e.g. 0o600 */
  mode: number;
  content: string;
}

function check(p: LinkPersistParams): void {
  if (!SAFE_IFNAME.test(p.nic) || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(p.mac) || !/^[\d.]+\/\d+$/.test(p.address) || !Number.isInteger(p.mtu)) {
    throw new LockstepError({ code: 'bad-argument', message: `Refusing to write a network file for ${JSON.stringify(p.nic)} ${JSON.stringify(p.mac)}.` });
  }
}

function header(p: LinkPersistParams): string {
  return `${MARKER}\n# ${p.nic} ${p.address}${p.peer ? ` ⇄ ${p.peer}` : ''}, MTU ${p.mtu}\n`;
}

export function networkdPath(nic: string): string {
  return `/etc/systemd/network/60-lockstep-${nic}.network`;
}

/** Matched by MAC (a renamed NIC keeps its link); not required for "online" so boot never waits for the peer. */
export function networkdFile(p: LinkPersistParams): PersistFile {
  check(p);
  return {
    path: networkdPath(p.nic),
    mode: 0o644,
    content:
      header(p) +
      ['[Match]', `MACAddress=${p.mac.toLowerCase()}`, 'Type=ether', '', '[Link]', `MTUBytes=${p.mtu}`, 'RequiredForOnline=no', '', '[Network]'].join('\n') +
      '\n' +
      [`Address=${p.address}`, 'LinkLocalAddressing=ipv6', 'IPv6AcceptRA=no', 'ConfigureWithoutCarrier=yes', ''].join('\n'),
  };
}

export function nmConnectionId(nic: string): string {
  return `lockstep-${nic}`;
}

export function nmPath(nic: string): string {
  return `/etc/NetworkManager/system-connections/${nmConnectionId(nic)}.nmconnection`;
}

/** A stable UUID from the MAC (name-based, SHA-1), so rewriting the keyfile changes nothing. */
export function nmUuid(mac: string): string {
  const h = createHash('sha1').update(`lockstep-link:${mac.toLowerCase()}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** Keyfile, mode 600 (NetworkManager ignores keyfiles others can read). Matched by MAC, never the default route. */
export function nmKeyfile(p: LinkPersistParams): PersistFile {
  check(p);
  const lines = [
    '[connection]',
    `id=${nmConnectionId(p.nic)}`,
    `uuid=${nmUuid(p.mac)}`,
    'type=ethernet',
    'autoconnect=true',
    '',
    '[ethernet]',
    `mac-address=${p.mac.toUpperCase()}`,
    `mtu=${p.mtu}`,
    '',
    '[ipv4]',
    'method=manual',
    `address1=${p.address}`,
    'never-default=true',
    'may-fail=false',
    '',
    '[ipv6]',
    'method=link-local',
    'addr-gen-mode=eui64',
    '',
  ];
  return { path: nmPath(p.nic), mode: 0o600, content: header(p) + lines.join('\n') };
}

export function ifupdownPath(nic: string): string {
  return `/etc/network/interfaces.d/lockstep-${nic}`;
}

/** ifupdown matches by name only: a renamed NIC loses the link (the comment says so). */
export function ifupdownFile(p: LinkPersistParams): PersistFile {
  check(p);
  return {
    path: ifupdownPath(p.nic),
    mode: 0o644,
    content:
      header(p) +
      `# ifupdown matches by name: the NIC with MAC ${p.mac.toLowerCase()} must keep the name ${p.nic}.\n` +
      [`auto ${p.nic}`, `iface ${p.nic} inet static`, `    address ${p.address}`, `    mtu ${p.mtu}`, ''].join('\n'),
  };
}

/**
 * Writes a file the safe way: temp file (umask 077) → mode → fsync → rename over the target.
 * The content goes on stdin; the script text is constant and the path/mode are arguments.
 */
export function writeFileCommand(side: Side, f: PersistFile): HostCommand {
  const script = 'umask 077 && cat >"$1.lockstep-tmp" && chmod "$2" "$1.lockstep-tmp" && sync "$1.lockstep-tmp" && mv -f "$1.lockstep-tmp" "$1"';
  return { ...cmd(side, ['sh', '-c', script, 'sh', f.path, f.mode.toString(8)], `write ${f.path}`), stdin: f.content };
}

/** Reads what is at a path now; `parseExisting` turns the result into content or null. */
export function readFileArgv(path: string): Argv {
  return ['cat', path];
}

export function parseExisting(r: { code: number; stdout: string; stderr: string }): string | null {
  if (r.code === 0) return r.stdout;
  if (/No such file/.test(r.stderr)) return null;
  throw new LockstepError({
    code: 'link-persist-read',
    message: 'Could not read an existing network file.',
    cause: r.stderr.trim().slice(0, 200),
    step: 'link-persist',
  });
}

/**
 * Pure: what to do about a file already at the path (its content, or null when absent).
 * A file without our marker belongs to someone else: refused, with the fix.
 */
export function existingFileAction(existing: string | null, want: PersistFile, hostName = 'the host'): 'create' | 'unchanged' | 'replace' {
  if (existing === null) return 'create';
  if (existing === want.content) return 'unchanged';
  if (existing.startsWith(MARKER)) return 'replace';
  throw new LockstepError({
    code: 'link-persist-foreign',
    message: `${want.path} on ${hostName} exists and was not written by Lockstep Lab; it is left alone.`,
    fix: `Move it away (mv ${want.path} /root/) or fold its settings into your own configuration, then run \`lockstep link setup\` again.`,
    host: hostName,
    step: 'link-persist',
  });
}

// ── the plan for one end ────────────────────────────────────────────────────────────────

export interface PersistPlan {
  kind: PersistenceKind;
  files: PersistFile[];
  /** after writing: make the service pick the file up (the addresses are already on the NIC) */
  activate: HostCommand[];
  /** what `link remove` runs, before the runtime undo */
  remove: HostCommand[];
  warning?: string;
}

export function persistPlan(side: Side, choice: PersistenceChoice, p: LinkPersistParams): PersistPlan {
  const gone = `${NO_DEVICE}|No such file`;
  switch (choice.kind) {
    case 'systemd-networkd': {
      const f = networkdFile(p);
      return {
        kind: choice.kind,
        files: [f],
        activate: [
          cmd(side, ['networkctl', 'reload'], 'systemd-networkd reads the new file'),
          cmd(side, ['networkctl', 'reconfigure', p.nic], `systemd-networkd takes over ${p.nic}`),
        ],
        remove: [
          cmd(side, ['rm', '-f', f.path], `delete ${f.path}`),
          cmd(side, ['networkctl', 'reload'], 'systemd-networkd forgets the file', 'not running|Failed to connect|not been booted'),
        ],
      };
    }
    case 'NetworkManager': {
      const f = nmKeyfile(p);
      const id = nmConnectionId(p.nic);
      return {
        kind: choice.kind,
        files: [f],
        activate: [
          cmd(side, ['nmcli', 'connection', 'load', f.path], 'NetworkManager reads the keyfile'),
          cmd(side, ['nmcli', 'connection', 'up', 'id', id], `NetworkManager takes over ${p.nic}`),
        ],
        remove: [
          cmd(
            side,
            ['nmcli', 'connection', 'delete', 'id', id],
            `delete the connection ${id}`,
            'unknown connection|not found|NetworkManager is not running|cannot delete',
          ),
          cmd(side, ['rm', '-f', f.path], `delete ${f.path} (if NetworkManager did not)`, gone),
        ],
      };
    }
    case 'ifupdown': {
      const f = ifupdownFile(p);
      // not `ifup`: the NIC is configured already and ifup would refuse; ifupdown applies the file at boot
      return { kind: choice.kind, files: [f], activate: [], remove: [cmd(side, ['rm', '-f', f.path], `delete ${f.path}`)] };
    }
    case 'none':
      return { kind: 'none', files: [], activate: [], remove: [], warning: choice.warning ?? 'The link will not survive a reboot.' };
  }
}

// ── what setup did, and `link remove` ──────────────────────────────────────────────────

/** Stored by `link setup` (idempotently rewritten); everything `link remove` needs, nothing else. */
export interface LinkRecord {
  version: 1;
  subnet: string;
  mtu: number;
  ends: [LinkEnd, LinkEnd];
  persisted: { side: Side; kind: PersistenceKind; paths: string[]; remove: HostCommand[] }[];
}

export function linkRecord(subnet: string, mtu: number, ends: [LinkEnd, LinkEnd], plans: Record<Side, PersistPlan>): LinkRecord {
  return {
    version: 1,
    subnet,
    mtu,
    ends,
    persisted: (['A', 'B'] as const).map((side) => ({ side, kind: plans[side].kind, paths: plans[side].files.map((f) => f.path), remove: plans[side].remove })),
  };
}

/**
 * Undoes exactly what setup did, in reverse: the persistence first (so no service puts the
 * link back), then each NIC's address, MTU, IPv6 probe changes and up/down state.
 * Every step tolerates "already gone", so a second `link remove` is a no-op.
 */
export function removePlan(r: LinkRecord): HostCommand[] {
  return [...r.persisted.flatMap((p) => p.remove), ...r.ends.flatMap((e) => undoCommands(e))];
}

/** For the plan view: the same steps, one line each. */
export function describePlan(cmds: readonly HostCommand[], names: Record<Side, string> = { A: 'host A', B: 'host B' }): string[] {
  return cmds.map((c) => `${names[c.side]}: ${c.argv.join(' ')}  # ${c.why}`);
}
