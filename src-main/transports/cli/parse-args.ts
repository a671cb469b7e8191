import { z } from 'zod';
import { commands, type CommandName } from '../../contract/index.js';

export type ParsedCli =
  | { kind: 'help'; topic?: string }
  | { kind: 'version' }
  | { kind: 'serve'; port?: number; open: boolean }
  | { kind: 'command'; name: CommandName; input: Record<string, unknown>; json: boolean }
  | { kind: 'error'; message: string; fix: string };

function baseType(schema: z.ZodType): string {
  let s: z.ZodType = schema;
  // unwrap optional/default wrappers to see what the value must be
  for (let i = 0; i < 5; i++) {
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) s = def.innerType;
    else return def.type;
  }
  return 'unknown';
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** `hosts.addLab` → `hosts add-lab` */
export const cliName = (command: string) => kebab(command.replace('.', ' '));

/** Pure: argv (without node and script) → what to do. Values are typed from the command's schema. */
export function parseArgs(argv: string[]): ParsedCli {
  const args = [...argv];
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h' || rest[0] === 'help') return { kind: 'help', topic: rest[1] };
  if (rest[0] === '--version' || rest[0] === '-v') return { kind: 'version' };
  if (rest[0] === 'serve') {
    let port: number | undefined;
    const i = rest.indexOf('--port');
    if (i >= 0) {
      port = Number(rest[i + 1]);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        return { kind: 'error', message: `Invalid --port ${JSON.stringify(rest[i + 1] ?? '')}.`, fix: 'Give a port number 1–65535, or 0 for a random one.' };
    }
    return { kind: 'serve', port, open: !rest.includes('--no-open') };
  }
  const name = `${rest[0]}.${camel(rest[1] ?? '')}`;
  if (!(name in commands)) {
    const groups = [...new Set(Object.keys(commands).map((c) => c.split('.')[0]))];
    return { kind: 'error', message: `Unknown command "${rest.slice(0, 2).join(' ')}".`, fix: `Try one of: ${groups.join(', ')} (lockstep --help lists all).` };
  }
  const cmd = commands[name as CommandName];
  if (rest.includes('--help') || rest.includes('-h')) return { kind: 'help', topic: name };
  const shape = cmd.input.shape as Record<string, z.ZodType>;
  const input: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 2; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = camel(eq > 0 ? a.slice(2, eq) : a.slice(2));
      const schema = shape[key];
      if (!schema)
        return { kind: 'error', message: `Unknown option --${kebab(key)} for "${rest[0]} ${rest[1]}".`, fix: `See lockstep ${rest[0]} ${rest[1]} --help.` };
      const type = baseType(schema);
      if (type === 'boolean') {
        const v = eq > 0 ? a.slice(eq + 1) : 'true';
        // `--kernel=maybe` is a typo, not a yes: only true/false are read as a flag's value
        if (v !== 'true' && v !== 'false')
          return {
            kind: 'error',
            message: `Option --${kebab(key)} takes no value, or =true / =false (got ${JSON.stringify(v.slice(0, 40))}).`,
            fix: `lockstep ${rest[0]} ${rest[1]} --${kebab(key)}`,
          };
        input[key] = v === 'true';
        continue;
      }
      const raw = eq > 0 ? a.slice(eq + 1) : rest[++i];
      if (raw === undefined)
        return { kind: 'error', message: `Option --${kebab(key)} needs a value.`, fix: `lockstep ${rest[0]} ${rest[1]} --${kebab(key)} VALUE` };
      // a list option (`--wipe A --wipe B`) collects one value per occurrence
      if (type === 'array') input[key] = [...(Array.isArray(input[key]) ? (input[key] as unknown[]) : []), raw];
      else input[key] = type === 'number' ? (raw.trim() === '' ? NaN : Number(raw)) : raw;
    } else positional.push(a);
  }
  const names = 'positional' in cmd ? (cmd.positional as readonly string[]) : [];
  if (positional.length > names.length)
    return { kind: 'error', message: `Too many arguments: ${positional.slice(names.length).join(' ')}.`, fix: `See lockstep ${rest[0]} ${rest[1]} --help.` };
  names.forEach((n, idx) => {
    if (positional[idx] !== undefined) input[n] = baseType(shape[n]!) === 'number' ? Number(positional[idx]) : positional[idx];
  });
  return { kind: 'command', name: name as CommandName, input, json };
}

export function helpText(topic?: string): string {
  if (topic && topic in commands) {
    const c = commands[topic as CommandName];
    const shape = c.input.shape as Record<string, z.ZodType>;
    const pos = 'positional' in c ? (c.positional as readonly string[]) : [];
    const usage = [`lockstep ${cliName(topic)}`, ...pos.map((p) => p.toUpperCase())].join(' ');
    const opts = Object.keys(shape)
      .filter((k) => !pos.includes(k))
      .map((k) => `  --${kebab(k)}${baseType(shape[k]!) === 'boolean' ? '' : ' VALUE'}`);
    return [`${usage} [--json]`, '', c.summary, ...(opts.length ? ['', 'Options:', ...opts] : [])].join('\n');
  }
  const lines = Object.entries(commands).map(([n, c]) => `  ${cliName(n).padEnd(20)} ${c.summary}`);
  return [
    'Lockstep Lab — always-on VMs on two Linux/KVM hosts',
    '',
    'Usage: lockstep COMMAND [ARGS] [--json]',
    '',
    '  serve [--port N] [--no-open]  run the app in web mode (127.0.0.1, per-launch token)',
    ...lines,
  ].join('\n');
}
