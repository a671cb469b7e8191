// The CLI as the benches drive it: `cli(args)` → the parsed --json answer ({ ok, value | error });
// `must(args)` → its value, or an error naming the command.
import { spawnSync } from 'node:child_process';

export function jsonCli(cliBin, env, timeoutMs) {
  const cli = (args) => {
    const r = spawnSync(process.execPath, [cliBin, ...args, '--json'], { env, encoding: 'utf8', timeout: timeoutMs });
    try {
      return JSON.parse(r.stdout);
    } catch {
      throw new Error(`lockstep ${args.join(' ')}: no JSON (exit ${r.status}): ${r.stderr.slice(0, 400)}`);
    }
  };
  const must = (args) => {
    const o = cli(args);
    if (!o.ok) throw new Error(`lockstep ${args.join(' ')}: ${JSON.stringify(o.error)}`);
    return o.value;
  };
  return { cli, must };
}
