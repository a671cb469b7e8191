/**
 * Pure: the OCF resource agent `ocf:lockstep:guest` the app installs on every node
 * (/usr/lib/ocf/resource.d/lockstep/guest), and the argument file of one guest.
 *
 * The agent starts the guest's QEMU from an argument file (one argument per line, written by the
 * app from validated values; bash reads it into an array, so nothing in it is interpreted by a
 * shell), on the host where Pacemaker promoted the DRBD resource. OCF rules: start and stop are
 * idempotent, monitor is the truth (7 = not running), stop escalates TERM → KILL within its
 * deadline. No code of the agent is built from user input: it is one fixed text.
 */
import { LockstepError } from '../contract/errors.js';
import { assertHostPath, assertResourceId } from './names.js';

export const AGENT_PATH = '/usr/lib/ocf/resource.d/lockstep/guest';
export const GUEST_DIR = '/etc/lockstep/guests';
export const guestArgsPath = (name: string) => `${GUEST_DIR}/${assertResourceId(name)}.args`;

export const GUEST_AGENT = `#!/bin/bash
# Lockstep Lab: OCF resource agent for a guest the app defined (ocf:lockstep:guest).
# Installed by \`lockstep cluster setup\`; overwritten on every setup.
: "\${OCF_ROOT:=/usr/lib/ocf}"
OCF_SUCCESS=0; OCF_ERR_GENERIC=1; OCF_ERR_ARGS=2; OCF_ERR_UNIMPLEMENTED=3; OCF_ERR_CONFIGURED=6; OCF_NOT_RUNNING=7
NAME="\${OCF_RESKEY_name:-}"
ARGS="\${OCF_RESKEY_args:-}"
RUN=/run/lockstep-guest
PID="$RUN/$NAME.pid"

meta_data() {
  cat <<'XML'
<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="guest" version="1.0">
  <version>1.0</version>
  <longdesc lang="en">A Lockstep Lab guest: QEMU started from an argument file, one argument per line.</longdesc>
  <shortdesc lang="en">Lockstep Lab guest</shortdesc>
  <parameters>
    <parameter name="name" unique="1" required="1">
      <longdesc lang="en">The guest's name.</longdesc><shortdesc lang="en">name</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="args" required="1">
      <longdesc lang="en">File with QEMU's argv, one argument per line (the first is the program).</longdesc>
      <shortdesc lang="en">argument file</shortdesc>
      <content type="string"/>
    </parameter>
  </parameters>
  <actions>
    <action name="start" timeout="120s"/>
    <action name="stop" timeout="60s"/>
    <action name="monitor" timeout="20s" interval="5s"/>
    <action name="meta-data" timeout="5s"/>
    <action name="validate-all" timeout="5s"/>
  </actions>
</resource-agent>
XML
}

running() {
  local p
  [ -r "$PID" ] || return 1
  read -r p <"$PID" 2>/dev/null || return 1
  [ -n "$p" ] && [ -d "/proc/$p" ] && tr '\\0' ' ' <"/proc/$p/cmdline" | grep -q qemu
}

validate() {
  [[ "$NAME" =~ ^[A-Za-z_][A-Za-z0-9_.-]{0,62}$ ]] || return $OCF_ERR_CONFIGURED
  [ -r "$ARGS" ] || return $OCF_ERR_CONFIGURED
  return $OCF_SUCCESS
}

start() {
  running && return $OCF_SUCCESS
  validate || return $?
  mkdir -p "$RUN"
  local argv
  mapfile -t argv <"$ARGS"
  [ "\${#argv[@]}" -gt 0 ] || return $OCF_ERR_CONFIGURED
  setsid "\${argv[@]}" -pidfile "$PID" </dev/null >>"$RUN/$NAME.log" 2>&1 &
  for _ in $(seq 1 100); do
    running && return $OCF_SUCCESS
    kill -0 $! 2>/dev/null || return $OCF_ERR_GENERIC
    sleep 0.2
  done
  return $OCF_ERR_GENERIC
}

stop() {
  running || { rm -f "$PID"; return $OCF_SUCCESS; }
  local p; read -r p <"$PID"
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq 1 75); do
    running || { rm -f "$PID"; return $OCF_SUCCESS; }
    sleep 0.2
  done
  echo "guest $NAME did not stop in 15 s: SIGKILL" >>"$RUN/$NAME.log"
  kill -KILL "$p" 2>/dev/null
  sleep 0.5
  running && return $OCF_ERR_GENERIC
  rm -f "$PID"; return $OCF_SUCCESS
}

case "\${1:-}" in
  meta-data) meta_data; exit $OCF_SUCCESS ;;
  start) start; exit $? ;;
  stop) stop; exit $? ;;
  monitor|status) running && exit $OCF_SUCCESS; exit $OCF_NOT_RUNNING ;;
  validate-all) validate; exit $? ;;
  *) exit $OCF_ERR_UNIMPLEMENTED ;;
esac
`;

/** Pure: the argument file of one guest: argv one per line; an argument with a newline is refused. */
export function renderGuestArgs(argv: readonly string[], drbdDevice: string): string {
  if (argv.length === 0) throw new LockstepError({ code: 'bad-guest', message: 'The guest has no QEMU command line.', fix: 'Define the guest first.' });
  assertHostPath(drbdDevice, 'DRBD device');
  if (!/^\/dev\/drbd\d+$/.test(drbdDevice))
    throw new LockstepError({ code: 'bad-guest', message: `${drbdDevice} is not a DRBD device.`, fix: 'The Mirror tier runs the guest on /dev/drbdN.' });
  if (!argv.some((a) => a.includes(drbdDevice)))
    throw new LockstepError({
      code: 'bad-guest',
      message: `The guest's command line does not use ${drbdDevice}: it would not run on the mirrored disk.`,
      fix: `Give the guest a -drive on ${drbdDevice}.`,
    });
  for (const a of argv)
    if (/[\n\r\0]/.test(a))
      throw new LockstepError({
        code: 'bad-guest',
        message: `A QEMU argument holds a line break: ${JSON.stringify(a.slice(0, 40))}.`,
        fix: 'Remove line breaks from the guest definition.',
      });
  if (argv.includes('-pidfile') || argv.includes('-daemonize'))
    throw new LockstepError({
      code: 'bad-guest',
      message: 'The guest command line sets -pidfile or -daemonize itself.',
      fix: 'Leave both out: the agent sets the pid file and keeps QEMU in the foreground.',
    });
  return argv.join('\n') + '\n';
}
