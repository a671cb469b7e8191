#!/usr/bin/env bash
# Part of native/build.sh: builds the host agent (static lockstep-agent) into OUTDIR/agent/.
set -euo pipefail
out=${1:?usage: build-part.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
for tool in gcc make; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "native/agent: '$tool' not found. Install it with: apt-get install -y gcc make libc6-dev" >&2
    exit 1
  }
done
# a static link needs libc.a (libc6-dev)
if ! echo 'int main(void){return 0;}' | gcc -x c -static -o /dev/null - >/dev/null 2>&1; then
  echo "native/agent: gcc cannot link statically. Install it with: apt-get install -y gcc make libc6-dev" >&2
  exit 1
fi
mkdir -p "$out/agent"
make -s -C "$here" CC=gcc OUTDIR="$(cd "$out/agent" && pwd)" all
echo "native/agent: $out/agent/lockstep-agent, $out/agent/colo-failover"
