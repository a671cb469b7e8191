#!/usr/bin/env bash
# Part of native/build.sh: builds what the QEMU kernel hosts of the virtual lab boot
# (dist/labvm, beside OUT), from the demo guest's kernel package (dist/guest/.cache).
# Runs after native/guest/build-part.sh (build.sh takes the parts in name order).
set -euo pipefail
out=${1:?usage: build-part.sh OUT}
dist="$(cd "$(dirname "$out")" && pwd)"
exec bash "$(dirname "$0")/vm/build.sh" "$dist/labvm" "$dist/guest"
