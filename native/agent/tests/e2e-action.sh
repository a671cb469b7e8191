#!/bin/sh
# Test action for the e2e run: records when it ran and what the agent told it.
# The product points failover_cmd/continue_cmd at a script that sends the QMP sequence.
out=${1:?usage: e2e-action.sh OUTFILE}
printf '%s %s %s %s\n' "$(date +%s%N)" "$LOCKSTEP_ACTION" "$LOCKSTEP_ROLE" "$LOCKSTEP_PEER_SILENT_MS" >>"$out"
