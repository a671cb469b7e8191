#!/usr/bin/env bash
# Part of native/build.sh: builds the demo guest (Debian kernel + busybox initramfs) into
# dist/guest (beside OUT). Fast when already built; the first build downloads Debian's kernel
# package with apt-get download.
set -euo pipefail
out=${1:?usage: build-part.sh OUT}
guest="$(cd "$(dirname "$out")" && pwd)/guest"
exec bash "$(dirname "$0")/build.sh" "$guest"
