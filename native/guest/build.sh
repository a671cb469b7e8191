#!/usr/bin/env bash
# Build the Lockstep Lab demo guest from Debian packages:
#   OUTDIR/vmlinuz     Debian's linux-image-6.1.*-amd64 kernel
#   OUTDIR/vmlinux     the same kernel uncompressed (ELF, PVH entry): QEMU boots it directly,
#                      skipping the in-guest XZ decompression (~2.7 s under TCG)
#   OUTDIR/initrd.img  busybox-static + virtio modules + the counter service (cpio newc, gzip)
#   OUTDIR/disk.img    raw data disk holding the counter (created only if absent)
#
# Usage: build.sh OUTDIR [--fresh-disk] [--rebuild]
#   --fresh-disk  recreate disk.img (the counter starts again at 0)
#   --rebuild     rebuild even if up to date, and ask apt again which kernel to use
# Environment:
#   LSG_KERNEL_PACKAGE  pin the kernel package (e.g. linux-image-6.1.0-56-amd64)
#   LSG_GUEST_CACHE     where downloaded/extracted kernels are kept (default OUTDIR/.cache)
#   LSG_BUSYBOX         a statically linked busybox (default: /bin/busybox from busybox-static)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here
readonly disk_size=16M
readonly modules_wanted=(virtio_pci virtio_blk virtio_net)

die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'build.sh: %s\n' "$*" >&2; }

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit "${1:-2}"; }

outdir="" fresh_disk=0 rebuild=0
for arg in "$@"; do
  case $arg in
    --fresh-disk) fresh_disk=1 ;;
    --rebuild) rebuild=1 ;;
    -h|--help) usage 0 ;;
    -*) say "unknown option: $arg"; usage ;;
    *) [ -z "$outdir" ] || { say "only one OUTDIR may be given"; usage; }; outdir=$arg ;;
  esac
done
[ -n "$outdir" ] || usage

# ---- tools ---------------------------------------------------------------------------
need() { # need TOOL DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 ||
    die "'$1' not found. Install it with: apt-get install -y $2"
}
need apt-get apt
need apt-cache apt
need dpkg-deb dpkg
need tar tar
need cpio cpio
need gzip gzip
need sha256sum coreutils
need truncate coreutils
need sort coreutils
need awk mawk

busybox=${LSG_BUSYBOX:-}
if [ -z "$busybox" ]; then
  for c in /bin/busybox /usr/bin/busybox; do [ -x "$c" ] && { busybox=$c; break; }; done
fi
[ -n "$busybox" ] && [ -x "$busybox" ] ||
  die "busybox not found. Install it with: apt-get install -y busybox-static"
if LC_ALL=C ldd "$busybox" >/dev/null 2>&1; then
  die "$busybox is dynamically linked; the guest needs a static one. Install it with: apt-get install -y busybox-static"
fi
bb_version=$("$busybox" --help 2>&1 | head -n 1 || true)
bb_applets=$("$busybox" --list)
for applet in sh init httpd nc dd insmod ip mkfifo usleep; do
  grep -qx "$applet" <<<"$bb_applets" || die "$busybox lacks the '$applet' applet (use Debian's busybox-static)"
done

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
cache=${LSG_GUEST_CACHE:-$outdir/.cache}
mkdir -p "$cache"

# ---- the data disk (independent of the image build) ----------------------------------
if [ "$fresh_disk" = 1 ] || [ ! -e "$outdir/disk.img" ]; then
  rm -f "$outdir/disk.img"
  truncate -s "$disk_size" "$outdir/disk.img"
  say "created $outdir/disk.img ($disk_size, raw, counter at 0)"
fi

# ---- fast path: nothing changed ------------------------------------------------------------
# The stamp holds the hash of the recipe (this script, rootfs/, busybox) and the kernel
# package used. apt is not consulted when up to date: --rebuild picks up a newer kernel.
src_hash=$(cd "$here" && { printf '%s\n' "$bb_version"
  find build.sh rootfs -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  find rootfs -type f -perm -u+x | LC_ALL=C sort; } | sha256sum | cut -c1-16)
stamp="$outdir/.build-stamp"
if [ "$rebuild" = 0 ] && [ -s "$outdir/vmlinuz" ] && [ -s "$outdir/initrd.img" ] &&
   read -r old_hash old_pkg old_ver <"$stamp" 2>/dev/null && [ "$old_hash" = "$src_hash" ] &&
   [ "${LSG_KERNEL_PACKAGE:-$old_pkg}" = "$old_pkg" ]; then
  say "up to date ($old_pkg $old_ver in $outdir)"
  exit 0
fi

# ---- which kernel --------------------------------------------------------------------------
# The 6.1 kernel linux-image-amd64 depends on (one apt-cache call: its Depends names the exact
# version); otherwise the newest linux-image-6.1.0-N-amd64 that apt can install.
is_61() { [[ $1 =~ ^linux-image-6\.1\.[0-9]+-[0-9]+-amd64$ ]]; }
candidate_of() { apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'; }

select_kernel() {
  local pkg="" ver="" dep
  if [ -n "${LSG_KERNEL_PACKAGE:-}" ]; then
    pkg=$LSG_KERNEL_PACKAGE
  else
    read -r dep ver < <(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
      awk '/^Depends:/ { sub(/^Depends: */, ""); split($0, d, /, */); print d[1]; exit }' |
      sed -E 's/^([^ ]+) \(= ([^)]+)\).*/\1 \2/') || true
    if is_61 "${dep:-}"; then
      pkg=$dep
    else
      ver=""
      for dep in $(apt-cache pkgnames linux-image-6.1. 2>/dev/null | sort -rV); do
        is_61 "$dep" && [ -n "$(candidate_of "$dep")" ] && { pkg=$dep; break; }
      done
    fi
  fi
  [ -n "$pkg" ] || return 1
  [ -n "$ver" ] || ver=$(candidate_of "$pkg")
  [ -n "$ver" ] || return 1
  printf '%s %s\n' "$pkg" "$ver"
}

if sel=$(select_kernel); then
  read -r kpkg kver <<<"$sel"
else
  # No apt lists (offline CI cache?): fall back to the newest kernel already in the cache.
  last=$(ls -1d "$cache"/kernel-*/ 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$last" ] && [ -f "$last/package" ] ||
    die "apt offers no linux-image-6.1.*-amd64 package. Run: apt-get update (Debian 12 'bookworm' sources needed)"
  read -r kpkg kver <"$last/package"
  say "warning: apt offers no 6.1 kernel; using the cached $kpkg $kver"
fi

# extract_vmlinux BZIMAGE OUT: the payload named by the bzImage setup header (payload_offset
# at 0x248, payload_length at 0x24c, after (setup_sects + 1) * 512 bytes), if it is XZ.
extract_vmlinux() {
  local sects off len
  sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$1" | tr -d ' ')
  [ "$sects" = 0 ] && sects=4
  off=$(od -An -tu4 -j $((0x248)) -N4 "$1" | tr -d ' ')
  len=$(od -An -tu4 -j $((0x24c)) -N4 "$1" | tr -d ' ')
  off=$(( (sects + 1) * 512 + off ))
  if ! command -v xz >/dev/null 2>&1; then
    say "warning: xz missing, no vmlinux (apt-get install -y xz-utils); vmlinuz still works"
  elif [ "$(dd if="$1" iflag=skip_bytes,count_bytes skip="$off" count=6 status=none | od -An -tx1 | tr -d ' \n')" != fd377a585a00 ]; then
    say "warning: the kernel payload is not XZ; no vmlinux (vmlinuz still works)"
  else
    dd if="$1" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none |
      xz -dc --single-stream >"$2.tmp"
    mv "$2.tmp" "$2"
  fi
}

# ---- kernel: download once, extract vmlinuz + modules.dep + the modules we need -------------
kdir="$cache/kernel-$kpkg-$kver"
if [ ! -f "$kdir/package" ]; then
  debdir="$cache/debs"
  mkdir -p "$debdir"
  deb=$(ls -1 "$debdir/${kpkg}_${kver//:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
  if [ -z "$deb" ]; then
    say "downloading $kpkg $kver"
    sandbox=()
    [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
    (cd "$debdir" && apt-get -q "${sandbox[@]}" download "$kpkg=$kver" >&2) ||
      die "apt-get download $kpkg=$kver failed (try: apt-get update)"
    deb=$(ls -1 "$debdir/${kpkg}_"*.deb | head -n 1)
  fi
  say "extracting $(basename "$deb")"
  work="$cache/.extract.$$"
  rm -rf "$work" "$kdir.tmp"
  mkdir -p "$work" "$kdir.tmp"
  trap 'rm -rf "$work" "$kdir.tmp"' EXIT
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards './boot/vmlinuz-*' './lib/modules/*'
  krel=$(ls -1 "$work/lib/modules" | head -n 1)
  [ -n "$krel" ] && [ -f "$work/boot/vmlinuz-$krel" ] || die "$deb holds no vmlinuz/modules"
  # The package carries no modules.dep (depmod runs at install time): make one.
  if command -v depmod >/dev/null 2>&1; then depmod -b "$work" "$krel"; else "$busybox" depmod -b "$work" "$krel"; fi
  mdir="$work/lib/modules/$krel"
  # Closure of the wanted modules over modules.dep (it lists transitive dependencies).
  declare -A need_mod=()
  for m in "${modules_wanted[@]}"; do
    line=$(grep -E "(^|/)${m}\.ko(\.xz|\.zst)?:" "$mdir/modules.dep" || true)
    if [ -z "$line" ]; then
      grep -qE "/${m}\.ko" "$mdir/modules.builtin" && continue
      die "module $m is neither in modules.dep nor built in ($krel)"
    fi
    for f in ${line/:/}; do need_mod[$f]=1; done
  done
  # Load order: a module's transitive dependency list is a strict subset of its dependents'.
  mkdir -p "$kdir.tmp/modules"
  for f in "${!need_mod[@]}"; do
    deps=$(grep -E "^${f//./\\.}:" "$mdir/modules.dep" | cut -d: -f2 | wc -w)
    name=$(basename "$f"); name=${name%.zst}; name=${name%.xz}
    case $f in
      *.ko.xz) need xz xz-utils; xz -dc "$mdir/$f" >"$kdir.tmp/modules/$name" ;;
      *.ko.zst) need zstd zstd; zstd -qdc "$mdir/$f" >"$kdir.tmp/modules/$name" ;;
      *) cp "$mdir/$f" "$kdir.tmp/modules/$name" ;;
    esac
    printf '%s %s %s\n' "$deps" "$name" "$f"
  done | sort -n -k1,1 -k2,2 >"$kdir.tmp/order"
  awk '{ print $2 }' "$kdir.tmp/order" >"$kdir.tmp/load-order"
  # A trimmed modules.dep so modprobe works inside the guest too.
  awk '{ print $3 }' "$kdir.tmp/order" | while read -r f; do
    grep -E "^${f//./\\.}:" "$mdir/modules.dep" | sed -E 's#[^ :]*/##g; s/\.(xz|zst)//g'
  done >"$kdir.tmp/modules.dep"
  rm "$kdir.tmp/order"
  cp "$work/boot/vmlinuz-$krel" "$kdir.tmp/vmlinuz"
  printf '%s\n' "$krel" >"$kdir.tmp/release"
  printf '%s %s\n' "$kpkg" "$kver" >"$kdir.tmp/package"
  rm -rf "$work" "$kdir"
  mv "$kdir.tmp" "$kdir"
  trap - EXIT
  # Keep only the kernel in use.
  find "$cache/debs" -name '*.deb' ! -name "${kpkg}_*" -delete 2>/dev/null || true
  find "$cache" -maxdepth 1 -name 'kernel-*' ! -name "kernel-$kpkg-$kver" -exec rm -rf {} +
fi
krel=$(cat "$kdir/release")
[ -f "$kdir/vmlinux" ] || extract_vmlinux "$kdir/vmlinuz" "$kdir/vmlinux"

# ---- initramfs -----------------------------------------------------------------------------
stage="$outdir/.stage"
rm -rf "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,run,tmp,etc,root,www/cgi-bin,"lib/modules/$krel"}
ln -s bin "$stage/sbin"
mkdir -p "$stage/usr"
ln -s ../bin "$stage/usr/bin"
ln -s ../bin "$stage/usr/sbin"
cp "$busybox" "$stage/bin/busybox"
for applet in $bb_applets; do
  [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done
cp -R "$here/rootfs/." "$stage/"
mv "$stage/lib/lsg/counter.cgi" "$stage/www/cgi-bin/index.cgi"
cp "$kdir/modules/"*.ko "$kdir/load-order" "$kdir/modules.dep" "$stage/lib/modules/$krel/"
chmod 1777 "$stage/tmp"
cat >"$stage/etc/lockstep-guest" <<EOF
name=lockstep-guest
kernel=$krel
kernel_package=$kpkg $kver
busybox=$(echo "$bb_version" | awk '{ print $2 }')
build=$src_hash
EOF
# Reproducible archive: fixed order, owner and mtime; gzip without name/time.
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
  cpio --quiet -o -H newc -R 0:0 --reproducible | gzip -9 -n) >"$outdir/initrd.img.tmp"
mv "$outdir/initrd.img.tmp" "$outdir/initrd.img"
for k in vmlinuz vmlinux; do
  if [ -f "$kdir/$k" ]; then cp "$kdir/$k" "$outdir/$k.tmp"; mv "$outdir/$k.tmp" "$outdir/$k"; else rm -f "$outdir/$k"; fi
done
rm -rf "$stage"
printf '%s %s %s\n' "$src_hash" "$kpkg" "$kver" >"$stamp"
say "built $outdir/vmlinuz$([ -f "$outdir/vmlinux" ] && echo ", vmlinux") ($krel) and initrd.img ($(du -k "$outdir/initrd.img" | cut -f1) KiB); modules: $(tr '\n' ' ' <"$kdir/load-order")"
