import { Core } from '../../app/core.js';
import { commands, type CommandName, type PlanDTO } from '../../contract/index.js';
import { formatError, formatValue } from './format.js';
import { helpText, parseArgs } from './parse-args.js';
import { serveWebMode } from '../server/serve.js';
import type { Stray } from '../../app/process-guard.js';

/** The core of the command now running, so a stray error can be logged as its event. */
let activeCore: Core | undefined;

/** Logs a stray error (caught by the process guard in bin.ts) in the event log of the running command. */
export function reportStray(s: Stray): void {
  activeCore?.reportStray(s);
}

function checkNode(): string | null {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 22 ? null : `Lockstep Lab needs Node 22 or newer (this is ${process.versions.node}).`;
}

/** The CLI door: same commands, same validation, human output or --json. */
export async function runCli(argv: string[]): Promise<number> {
  const nodeProblem = checkNode();
  if (nodeProblem) {
    console.error(formatError({ code: 'node-version', message: nodeProblem, fix: 'bash .ci/setup  (installs Node 22 into /opt/lockstep and /usr/local/bin)' }));
    return 2;
  }
  const parsed = parseArgs(argv);
  switch (parsed.kind) {
    case 'help':
      console.log(helpText(parsed.topic));
      return 0;
    case 'version': {
      const { version } = await import('../../app/version.js');
      console.log(version);
      return 0;
    }
    case 'error': {
      const error = { code: 'bad-arguments', message: parsed.message, fix: parsed.fix };
      // a script asked for JSON: the refusal is JSON too, on stdout like every other result
      if (argv.includes('--json')) console.log(JSON.stringify({ ok: false, error }, null, 2));
      else console.error(formatError(error));
      return 2;
    }
    case 'serve':
      return serveWebMode({ port: parsed.port, open: parsed.open });
    case 'command':
      return runCommand(parsed.name, parsed.input, parsed.json);
  }
}

async function runCommand(name: CommandName, input: Record<string, unknown>, json: boolean): Promise<number> {
  const core = new Core({ door: 'cli' });
  activeCore = core;
  const spec = commands[name];
  let off: (() => void) | undefined;
  if ('long' in spec && spec.long && !json && process.stderr.isTTY !== undefined) {
    let last = '';
    off = core.onEvent((e) => {
      if (e.type !== 'task-updated') return;
      const line = progressLine(e.plan);
      if (line !== last) process.stderr.write(line + '\n');
      last = line;
    });
  }
  try {
    const result = await core.invoke(name, input);
    if (json) console.log(JSON.stringify(result, null, 2));
    else if (result.ok) console.log(formatValue(name, result.value));
    else console.error(formatError(result.error));
    return result.ok ? 0 : 1;
  } finally {
    off?.();
    await core.runner.idle();
    activeCore = undefined;
    await core.close();
  }
}

function progressLine(p: PlanDTO): string {
  const cur = p.steps.find((s) => s.state === 'probing' || s.state === 'applying' || s.state === 'verifying');
  const doneCount = p.steps.filter((s) => s.state === 'done' || s.state === 'skipped').length;
  const pr = p.progress;
  const pct = pr?.fraction != null ? ` ${(pr.fraction * 100).toFixed(0)}%` : '';
  const eta = pr?.etaSeconds != null ? ` ETA ${Math.ceil(pr.etaSeconds)}s` : '';
  return `[${doneCount}/${p.steps.length}] ${cur ? cur.title : p.state}${pct}${eta}${pr?.message ? ` — ${pr.message}` : ''}`;
}
