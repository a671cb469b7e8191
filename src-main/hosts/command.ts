/**
 * Pure: the shape of every command the link code plans. Commands are argv arrays
 * (they reach a host through `shellCommand`, never a hand-built string).
 */

/** Which end of the link: A is where the probe runs from. */
export type Side = 'A' | 'B';

export type Argv = string[];

export interface HostCommand {
  side: Side;
  argv: Argv;
  /** one line a person can read in the plan view / `--dry-run` */
  why: string;
  /**
   * A regular expression (source text, so a plan can be stored as JSON) matched against
   * stderr: a failure that matches it means "already as wanted" and counts as success.
   * Used by undo steps so that `link remove` can run twice.
   */
  tolerate?: string;
  /** fed to the command's stdin (file contents; never part of the command line) */
  stdin?: string;
}

export function cmd(side: Side, argv: Argv, why: string, tolerate?: string): HostCommand {
  return tolerate === undefined ? { side, argv, why } : { side, argv, why, tolerate };
}

/** Does a failed command's stderr mean "already done"? */
export function tolerated(c: HostCommand, stderr: string): boolean {
  return c.tolerate !== undefined && new RegExp(c.tolerate).test(stderr);
}

/** stderr of `ip` when the device is gone: nothing left to undo on it. */
export const NO_DEVICE = 'Cannot find device|does not exist';
