import type { ErrorDTO } from '../../src-main/contract/index.js';

/** Commands by the button that runs them in the window. */
const ACTIONS: Record<string, string> = {
  'lab.up': 'Start virtual lab',
  'lab.down': 'Remove lab',
  'lab.power': 'Power on',
  'hosts.discover': 'Scan',
  'hosts.add': 'Add host',
  'hosts.addLab': "Add the virtual lab's hosts",
  'hosts.forget': 'Forget',
  'preflight.run': 'Run preflight',
  'link.setup': 'Set up the link',
  'link.remove': 'Remove the link',
  'mirror.setup': 'Set up the mirror',
  'mirror.skip': 'Continue without DRBD',
  'cluster.setup': 'Set up the cluster',
  'cluster.remove': 'Remove the cluster…',
  'lockstep.protect': 'Protect the guest',
  'lockstep.reprotect': 'Re-protect',
  'lockstep.stop': 'Stop the guest',
  'host.maintenance': 'Maintenance on …',
  'agent.deploy': 'Deploy the agents',
  'agent.stop': 'Stop the agents',
  'drill.run': 'Pull the plug',
  'drill.export': 'Export report',
  'console.open': 'Open console',
  'vm.list': 'List the VMs',
  'vm.inspect': 'Check the VM',
};

/** Input fields by the label they carry in the window. */
const FIELDS: Record<string, string> = {
  cidr: 'Network to scan',
  address: 'Host address',
  port: 'SSH port',
  user: 'SSH user',
  keyFile: 'Private key file',
  subnet: 'Link network',
  mtu: 'MTU',
};

/** Errors whose fix is a button in the window: what to press. */
const WINDOW_FIXES: Record<string, string> = {
  'link-exists': 'Press “Remove the link…” on the Link page, then “Set up the link” with the new network.',
  'agents-armed': 'Press “Stop the agents” on the Dashboard, then pull the plug.',
  'link-subnet-overlap': 'Type a free network in “Link network” (the one suggested below is free on both hosts), then press “Set up the link”.',
};

export interface WindowError {
  message: string;
  cause?: string;
  /** what to do in the window */
  fix?: string;
  /** the same fix from a terminal (shown as "or from a terminal: …") */
  terminal?: string;
  host?: string;
}

const COMMAND_ID = /\b(lab|hosts|host|preflight|link|mirror|cluster|lockstep|agent|drill|guest|console|vm|events|tasks|app)\.[a-z][A-Za-z]*\b/g;
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** Puts a command id, a step id or a CLI flag in the window's words. */
export function inWindowWords(text: string, fields: Record<string, string> = {}): string {
  const labels = { ...FIELDS, ...fields };
  return text
    .replace(COMMAND_ID, (id) => (ACTIONS[id] ? `“${ACTIONS[id]}”` : 'this action'))
    .replace(/--([a-z][a-z-]*)/g, (flag, name: string) => {
      const key = Object.keys(labels).find((k) => kebab(k) === name);
      return key ? `“${labels[key]}”` : flag;
    })
    .replace(/\bgive “/g, 'fill in “');
}

/** The error as the window says it: the field and the action by their labels; CLI commands only as the terminal alternative. */
export function windowError(e: ErrorDTO, ctx: { action?: string; fields?: Record<string, string> } = {}): WindowError {
  const labels = { ...FIELDS, ...ctx.fields };
  let message = e.message;
  let fix: string | undefined;
  let terminal: string | undefined;
  const invalid = /^Invalid ([A-Za-z0-9_.]+) for ([a-zA-Z.]+): (.*)$/s.exec(message);
  if (invalid) {
    const field = labels[invalid[1]!.split('.').pop()!] ?? invalid[1]!;
    const action = ACTIONS[invalid[2]!] ?? ctx.action ?? 'this action';
    message = `“${field}” (${action}): must be ${invalid[3]!.replace(/\.$/, '')}.`;
    fix = `Correct “${field}”, then press ${action} again.`;
  } else message = inWindowWords(message, ctx.fields);
  if (WINDOW_FIXES[e.code]) fix = WINDOW_FIXES[e.code];
  if (e.fix) {
    const split = splitFix(e.fix);
    terminal = split.terminal;
    if (split.window) fix ??= inWindowWords(split.window, ctx.fields);
  }
  return {
    message,
    // a refused input's cause repeats the message in the request's field names: the message says it already
    ...(e.cause && !invalid ? { cause: inWindowWords(e.cause, ctx.fields) } : {}),
    ...(fix ? { fix } : {}),
    ...(terminal ? { terminal } : {}),
    ...(e.host ? { host: e.host } : {}),
  };
}

/** Separates a fix into what to do in the window and the CLI command (the terminal alternative). */
export function splitFix(fix: string): { window?: string; terminal?: string } {
  const ticked = /`(lockstep [^`]+)`/.exec(fix);
  if (ticked) {
    const window = fix
      .replace(/,?\s*or\s*`lockstep [^`]+`/, '')
      .replace(/^See `lockstep [^`]+`.*$/, '')
      .replace(/`lockstep [^`]+`/, 'the command below')
      .trim();
    return { ...(window ? { window } : {}), terminal: ticked[1]!.trim() };
  }
  const at = fix.search(/\blockstep [a-z]/);
  if (at < 0) return { window: fix };
  const before = fix.slice(0, at).trim();
  const terminal = fix
    .slice(at)
    .replace(/\)?\.?$/, '')
    .trim();
  // "To move it to X: lockstep …" or "If you know why: lockstep …" introduce the command: no window fix by themselves
  return before && !/[:(]$/.test(before) ? { window: before, terminal } : { terminal };
}
