#!/usr/bin/env bash
# Builds the native parts that the app ships or the lab uses. Each part is optional
# here: a missing toolchain is reported with the install command, not ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/native
mkdir -p "$out"
for part in native/*/build-part.sh; do
  [ -e "$part" ] || continue
  bash "$part" "$out" || {
    rc=$?
    echo "native/build.sh: $part failed (exit $rc)" >&2
    exit "$rc"
  }
done
touch dist/.built
