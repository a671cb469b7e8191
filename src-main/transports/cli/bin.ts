#!/usr/bin/env node
import { installProcessGuard, strayError } from '../../app/process-guard.js';
import { formatError } from './format.js';
import { reportStray, runCli } from './run-cli.js';

/** Exit status of a run that finished but met a stray error on the way (EX_SOFTWARE). */
const STRAY_EXIT = 70;
let strays = 0;

// a stray rejection or exception: one clear error on stderr (never a stack trace), an event in the
// log, and the command goes on to its end (a plan is not cut mid-step); the exit status then says so
installProcessGuard((s) => {
  strays++;
  console.error(formatError(s.error));
  reportStray(s);
  if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = STRAY_EXIT;
});

runCli(process.argv.slice(2)).then(
  (code) => {
    const exit = code === 0 && strays > 0 ? STRAY_EXIT : code;
    process.exitCode = exit;
    // the answer is out and every session closed; a socket to a host that vanished mid-command
    // (no FIN, no RST) must not hold the command for the kernel's retransmission minutes
    setTimeout(() => process.exit(exit), 5000).unref();
  },
  (err: unknown) => {
    console.error(formatError({ ...strayError('uncaught-exception', err), code: 'internal' }));
    process.exitCode = 1;
  },
);
