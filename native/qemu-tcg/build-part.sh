#!/usr/bin/env bash
# Part of native/build.sh: builds the lab-only TCG shim (libcolo-tcg-shim.so) into OUT.
# Only the virtual lab (QEMU 7.2 under TCG) preloads it; KVM hosts never get it.
set -euo pipefail
out=${1:?usage: build-part.sh OUT}
for tool in cc make; do
  command -v "$tool" >/dev/null 2>&1 || { echo "native/qemu-tcg: '$tool' not found. Install it with: apt-get install -y gcc make" >&2; exit 1; }
done
mkdir -p "$out"
make -s -C "$(dirname "$0")" OUTDIR="$(cd "$out" && pwd)"
