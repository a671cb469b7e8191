#!/usr/bin/env bash
# Build what a QEMU kernel host of the virtual lab boots (the flavour used where user-mode
# Linux cannot run, e.g. on CPUs with AMX state):
#   OUTDIR/vmlinux (or vmlinuz)   Debian's linux-image-6.1 kernel (the demo guest's, which
#                                 carries DRBD 8.4.11 as drbd.ko)
#   OUTDIR/modules/<release>/     that kernel's whole module tree + modules.dep (shared into
#                                 the host read-only over 9p, so `modprobe drbd` works)
#   OUTDIR/initrd.img             busybox-static + virtio/9p modules + a tiny /init that
#                                 mounts the host's root (9p) and hands over to /etc/lab/init
#
# Usage: build.sh OUTDIR GUEST_DIR
#   GUEST_DIR  the demo guest's build dir (its .cache holds the kernel package, see
#              native/guest/build.sh); built first by native/build.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here
readonly initrd_modules=(virtio_pci virtio_blk virtio_net 9pnet_virtio 9p)

die() { printf 'labvm build: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'labvm build: %s\n' "$*" >&2; }

outdir=${1:?usage: build.sh OUTDIR GUEST_DIR}
guest=${2:?usage: build.sh OUTDIR GUEST_DIR}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

busybox=""
for c in /bin/busybox /usr/bin/busybox; do [ -x "$c" ] && { busybox=$c; break; }; done
[ -n "$busybox" ] || die "busybox not found. Install it with: apt-get install -y busybox-static"
command -v depmod >/dev/null || die "depmod not found. Install it with: apt-get install -y kmod"

deb=$(ls -1 "$guest"/.cache/debs/linux-image-6.1*.deb 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$deb" ] || die "no kernel package in $guest/.cache/debs (build the demo guest first: bash native/guest/build.sh $guest)"

bb_version=$("$busybox" --help 2>&1 | sed -n 1p || true) # sed reads it all: no SIGPIPE under pipefail
src_hash=$({ sha256sum "$here/build.sh" "$here/initramfs-init.sh"; basename "$deb"; echo "$bb_version"; } | sha256sum | cut -c1-16)
stamp="$outdir/.build-stamp"
if [ -s "$outdir/initrd.img" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$src_hash" ]; then
  say "up to date ($(basename "$deb") in $outdir)"
  exit 0
fi

work="$outdir/.work.$$"
trap 'rm -rf "$work"' EXIT
rm -rf "$work"
mkdir -p "$work/x"
say "extracting $(basename "$deb")"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" --wildcards './boot/vmlinuz-*' './lib/modules/*'
krel=$(ls -1 "$work/x/lib/modules" | head -n 1)
[ -n "$krel" ] && [ -f "$work/x/boot/vmlinuz-$krel" ] || die "$deb holds no vmlinuz/modules"
depmod -b "$work/x" "$krel"
mdir="$work/x/lib/modules/$krel"
[ -n "$(find "$mdir" -name 'drbd.ko*' -print -quit)" ] || die "$krel has no drbd.ko"

# ---- initramfs: busybox + the modules needed to reach the 9p root ------------------------
stage="$work/stage"
mkdir -p "$stage"/{bin,dev,proc,sys,newroot,"lib/modules/$krel"}
ln -s bin "$stage/sbin"
cp "$busybox" "$stage/bin/busybox"
for a in sh mount umount insmod switch_root mkdir cat sleep echo poweroff; do ln -s busybox "$stage/bin/$a"; done
declare -A need=()
for m in "${initrd_modules[@]}"; do
  line=$(grep -E "(^|/)${m}\.ko(\.xz|\.zst)?:" "$mdir/modules.dep" || true)
  if [ -z "$line" ]; then
    grep -qE "/${m}\.ko" "$mdir/modules.builtin" && continue
    die "module $m is neither in modules.dep nor built in ($krel)"
  fi
  for f in ${line/:/}; do need[$f]=1; done
done
# load order: modules.dep lists every transitive dependency, so fewer deps loads first
for f in "${!need[@]}"; do
  n=$(grep -E "^${f//./\\.}:" "$mdir/modules.dep" | cut -d: -f2 | wc -w)
  name=$(basename "$f"); name=${name%.zst}; name=${name%.xz}
  case $f in
    *.ko.xz) xz -dc "$mdir/$f" >"$stage/lib/modules/$krel/$name" ;;
    *.ko.zst) zstd -qdc "$mdir/$f" >"$stage/lib/modules/$krel/$name" ;;
    *) cp "$mdir/$f" "$stage/lib/modules/$krel/$name" ;;
  esac
  printf '%s %s\n' "$n" "$name"
done | sort -n -k1,1 -k2,2 | awk '{ print $2 }' >"$stage/load-order"
install -m 0755 "$here/initramfs-init.sh" "$stage/init"
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible | gzip -9 -n) >"$work/initrd.img"

# ---- publish ------------------------------------------------------------------------------
rm -rf "$outdir/modules.new"
mkdir -p "$outdir/modules.new"
mv "$mdir" "$outdir/modules.new/$krel"
rm -rf "$outdir/modules"
mv "$outdir/modules.new" "$outdir/modules"
kcache=$(ls -1d "$guest"/.cache/kernel-*/ 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$kcache" ] && [ -f "$kcache/vmlinux" ] && [ "$(cat "$kcache/release" 2>/dev/null)" = "$krel" ]; then
  cp "$kcache/vmlinux" "$outdir/vmlinux.tmp" && mv "$outdir/vmlinux.tmp" "$outdir/vmlinux"
else
  rm -f "$outdir/vmlinux"
fi
cp "$work/x/boot/vmlinuz-$krel" "$outdir/vmlinuz.tmp" && mv "$outdir/vmlinuz.tmp" "$outdir/vmlinuz"
mv "$work/initrd.img" "$outdir/initrd.img"
echo "$krel" >"$outdir/release"
echo "$src_hash" >"$stamp"
say "built $outdir: kernel $krel, initrd $(du -k "$outdir/initrd.img" | cut -f1) KiB ($(tr '\n' ' ' <"$stage/load-order"))"
