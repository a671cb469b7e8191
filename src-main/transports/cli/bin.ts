#!/usr/bin/env node
import { runCli } from './run-cli.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // the answer is out and every session closed; a socket to a host that vanished mid-command
    // (no FIN, no RST) must not hold the command for the kernel's retransmission minutes
    setTimeout(() => process.exit(code), 5000).unref();
  },
  (err: unknown) => {
    console.error('error:', err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
