import { tempDir } from './temp.js';

/**
 * An isolated lab for a test file: its own app home, namespace prefix and /24,
 * so tests never touch a lab the user (or another test) has running.
 */
export function labEnv(prefix: string, net: string): { env: Record<string, string>; home: { path: string; remove(): void } } {
  const home = tempDir(`lockstep-${prefix}-`);
  return { home, env: { LOCKSTEP_HOME: home.path, LOCKSTEP_LAB_PREFIX: prefix, LOCKSTEP_LAB_NET: net } };
}
