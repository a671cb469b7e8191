import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the app keeps its data: LOCKSTEP_HOME if set, else Electron's userData
 * (passed in by the shell), else the XDG data folder.
 */
export function resolveHome(env: NodeJS.ProcessEnv = process.env, electronUserData?: string): string {
  if (env.LOCKSTEP_HOME) return env.LOCKSTEP_HOME;
  if (electronUserData) return electronUserData;
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(xdg, 'lockstep-lab');
}
