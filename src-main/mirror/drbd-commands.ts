/**
 * Pure: argv arrays for every step of a DRBD resource's life, and the crash-safe plan that
 * writes its configuration. Nothing here runs anything: the caller sends each argv through
 * hosts/shell-quote (one argument = one quoted word), content travels on stdin, never inside
 * a command line. Judge the result by exit code: drbdadm prints warnings on success.
 */
import { LockstepError } from '../contract/errors.js';
import { assertResourceName } from './res-config.js';

export type Argv = string[];

/** One command of a plan: argv, and what to feed on stdin ('' = an empty stdin, like </dev/null). */
export interface CommandStep {
  argv: Argv;
  stdin?: string;
  /** One line for the task log. */
  why: string;
}

export interface DrbdadmOptions {
  /** `-c FILE`: read this configuration instead of /etc/drbd.conf. */
  configFile?: string;
  /** `-d`: print the drbdsetup/drbdmeta commands instead of running them. */
  dryRun?: boolean;
}

const DRBD_DIR = '/etc/drbd.d';

function assertAbsolutePath(p: string, what: string): string {
  if (!/^\/[A-Za-z0-9._+:@,=/-]*$/.test(p) || p.split('/').includes('..')) {
    throw new LockstepError({
      code: 'bad-argument',
      message: `Not a usable ${what}: ${JSON.stringify(p.slice(0, 70))}.`,
      fix: 'Use an absolute path without spaces, quotes or "..".',
    });
  }
  return p;
}

function drbdadm(sub: string, flags: readonly string[], name: string, o: DrbdadmOptions = {}): Argv {
  const argv = ['drbdadm'];
  if (o.configFile !== undefined) argv.push('-c', assertAbsolutePath(o.configFile, 'configuration file'));
  if (o.dryRun) argv.push('-d');
  argv.push(sub, ...flags, assertResourceName(name));
  return argv;
}

/** Load the module first: drbd-utils picks its 8.4 or 9 tools from /proc/drbd. */
export const modprobeDrbd = (): Argv => ['modprobe', 'drbd'];
/** Kernel module version and (8.4) live status. */
export const readProcDrbd = (): Argv => ['cat', '/proc/drbd'];
/** `DRBDADM_VERSION=…`, `DRBD_KERNEL_VERSION=…`: see parseDrbdadmVersion. */
export const drbdadmVersion = (): Argv => ['drbdadm', '--version'];

/**
 * Write DRBD metadata on the backing disk. Run with an empty stdin: on a disk that already has
 * metadata drbdadm asks on a TTY and, without one, cancels (exit 1). `force` answers yes to that:
 * it must come from a deliberate, confirmed choice (it destroys the old metadata).
 */
export function createMd(name: string, opts: DrbdadmOptions & { force?: boolean } = {}): Argv {
  return drbdadm('create-md', opts.force === true ? ['--force'] : [], name, opts);
}

/** Attach the disk and start connecting (after create-md). */
export const up = (name: string, o?: DrbdadmOptions): Argv => drbdadm('up', [], name, o);
/** Stop the resource (disconnect, detach, delete the minor). */
export const down = (name: string, o?: DrbdadmOptions): Argv => drbdadm('down', [], name, o);
/** Apply the configuration file to a running resource (also brings a down resource up). */
export const adjust = (name: string, o?: DrbdadmOptions): Argv => drbdadm('adjust', [], name, o);

/**
 * Promote. `force` makes this node's data the good copy even though it is not known UpToDate:
 * the initial full sync starts from here. Without it, promotion fails unless the data is UpToDate
 * and the peer is not Primary.
 */
export function primary(name: string, opts: DrbdadmOptions & { force?: boolean } = {}): Argv {
  return drbdadm('primary', opts.force === true ? ['--force'] : [], name, opts);
}
export const secondary = (name: string, o?: DrbdadmOptions): Argv => drbdadm('secondary', [], name, o);

/**
 * (Re)connect to the peer. `discardMyData`: this node is the split-brain victim, its changes since
 * the split are thrown away and overwritten from the peer (run `secondary` first).
 */
export function connect(name: string, opts: DrbdadmOptions & { discardMyData?: boolean } = {}): Argv {
  return drbdadm('connect', opts.discardMyData === true ? ['--discard-my-data'] : [], name, opts);
}
export const disconnect = (name: string, o?: DrbdadmOptions): Argv => drbdadm('disconnect', [], name, o);

/**
 * Skip the initial full sync: declare both (connected, Secondary, Inconsistent) disks identical.
 * ONLY when both disks are known blank or byte-identical; otherwise they silently differ.
 */
export const newCurrentUuidClearBitmap = (name: string, o?: DrbdadmOptions): Argv => drbdadm('new-current-uuid', ['--clear-bitmap'], name, o);

/** Online compare with the peer (needs verify-alg); differences show up as out-of-sync. */
export const verify = (name: string, o?: DrbdadmOptions): Argv => drbdadm('verify', [], name, o);

/** 8.4: `WFConnection`, `SyncSource`, …; 9: the connection state. See parseCstate. */
export const cstate = (name: string, o?: DrbdadmOptions): Argv => drbdadm('cstate', [], name, o);
/** `UpToDate/Inconsistent` (local/peer). See parseDstate. */
export const dstate = (name: string, o?: DrbdadmOptions): Argv => drbdadm('dstate', [], name, o);
/** 8.4: `Primary/Secondary`; 9: `Primary`. See parseRole. */
export const role = (name: string, o?: DrbdadmOptions): Argv => drbdadm('role', [], name, o);

/** Human-readable status (both versions), see parseDrbdadmStatus. `statistics` adds byte counters and out-of-sync. */
export function status(name: string, opts: DrbdadmOptions & { statistics?: boolean } = {}): Argv {
  return drbdadm('status', opts.statistics === true ? ['--statistics'] : [], name, opts);
}

/** Parse the configuration and print it back; exit 0 = valid for this host, 10 = syntax, 1 = host not in it. */
export const dump = (name: string, o?: DrbdadmOptions): Argv => drbdadm('dump', [], name, o);

/** DRBD 9 machine-readable state, one snapshot; see parseEvents2. */
export function events2Now(name: string): Argv {
  return ['drbdsetup', 'events2', '--now', '--statistics', assertResourceName(name)];
}

export interface ConfigWritePlan {
  /** Run in order; stop at the first non-zero exit. */
  steps: CommandStep[];
  /** Run (ignoring errors) when a step failed: removes the temporary file. */
  onFailure: CommandStep[];
  tempPath: string;
  finalPath: string;
}

/**
 * Pure: the crash-safe way to install /etc/drbd.d/NAME.res (field note: a file written seconds
 * before a crash came back empty). Write NAME.res.new from stdin (not matched by drbd.conf's
 * `include "drbd.d/*.res"`), validate it with drbdadm, flush it, rename it over the old one,
 * flush the directory. `dir` is for tests.
 */
export function configWritePlan(name: string, content: string, dir: string = DRBD_DIR): ConfigWritePlan {
  assertResourceName(name);
  assertAbsolutePath(dir, 'configuration directory');
  if (typeof content !== 'string' || content.length === 0 || content.includes('\0') || !content.endsWith('\n') || content.length > 64 * 1024) {
    throw new LockstepError({
      code: 'bad-argument',
      message: 'Refusing to write an empty, binary, unterminated or oversized DRBD configuration.',
      fix: 'Generate the file with renderResource().',
    });
  }
  if (!new RegExp(`^resource ${name} \\{$`, 'm').test(content)) {
    throw new LockstepError({
      code: 'bad-argument',
      message: `The configuration does not define resource ${name}.`,
      fix: 'Write the file under the name of the resource it defines.',
    });
  }
  const tempPath = `${dir}/${name}.res.new`;
  const finalPath = `${dir}/${name}.res`;
  return {
    tempPath,
    finalPath,
    steps: [
      { argv: ['mkdir', '-p', dir], why: `make sure ${dir} exists` },
      { argv: ['dd', `of=${tempPath}`, 'status=none'], stdin: content, why: `write ${tempPath} from stdin` },
      { argv: ['chmod', '0644', tempPath], why: 'readable like the rest of drbd.d' },
      { argv: dump(name, { configFile: tempPath }), stdin: '', why: 'validate: drbdadm parses it and finds this host in it' },
      { argv: ['sync', tempPath], why: 'flush the new file to disk before it replaces the old one' },
      { argv: ['mv', '-f', tempPath, finalPath], why: `atomically replace ${finalPath}` },
      { argv: ['sync', dir], why: 'flush the rename' },
    ],
    onFailure: [{ argv: ['rm', '-f', tempPath], why: `remove ${tempPath}` }],
  };
}
