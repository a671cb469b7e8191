#!/usr/bin/env bash
# Build a test VM that Lockstep Lab did not make: Debian 12 from Debian's packages (debootstrap),
# systemd, stock Redis keeping its data on disk (appendonly yes, appendfsync always), serial
# console on ttyS0 (root logged in there), virtio disk + virtio-net (eth0), a static IPv4 address
# (systemd-networkd, from `ip=` on the kernel command line), BIOS boot from its own disk: an MBR
# with syslinux's mbr.bin, partition 1 FAT16 with syslinux + Debian's kernel and initramfs,
# partition 2 ext4 root. Delivered as qcow2.
#
# Usage: build.sh OUT.qcow2 --address A.B.C.D/PREFIX [--gateway A.B.C.D] [--size 2G]
# Prints `cached: yes|no` and `image: PATH` (the cache's copy) on stdout.
#
# Built without loop devices or mounts (mkfs.ext4 -d, mtools, syslinux's mtools installer), so
# nothing of the machine's kernel state is left behind by an interrupted build.
# Cache (LSV_CACHE, default /var/cache/lockstep-test-vm): base-KEY.raw, KEY = sha256 of this file
# and the size; one qcow2 per address beside it. A second run with the same inputs only copies.
# Environment: LSV_CACHE, LSV_MIRROR (default: the Debian mirror of /etc/apt/sources.list*).
set -euo pipefail

die() { printf 'test-vm build: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'test-vm build: %s\n' "$*" >&2; }

out="" address="" gateway="" size=2G
while [ $# -gt 0 ]; do
  case $1 in
    --address) address=${2:-}; shift 2 ;;
    --gateway) gateway=${2:-}; shift 2 ;;
    --size) size=${2:-}; shift 2 ;;
    -*) die "unknown option $1 (usage: build.sh OUT.qcow2 --address A.B.C.D/PREFIX [--gateway A.B.C.D] [--size 2G])" ;;
    *) [ -z "$out" ] || die "only one OUT.qcow2 may be given"; out=$1; shift ;;
  esac
done
ipv4='([0-9]{1,3}\.){3}[0-9]{1,3}'
[ -n "$out" ] || die "no output file given (usage: build.sh OUT.qcow2 --address A.B.C.D/PREFIX)"
[[ $out =~ ^/[A-Za-z0-9._/-]+\.qcow2$ ]] || die "OUT must be an absolute path of letters, digits, . _ - / ending in .qcow2: $out"
[[ $address =~ ^$ipv4/([0-9]|[12][0-9]|3[0-2])$ ]] || die "--address must be A.B.C.D/PREFIX, e.g. 198.18.88.50/24 (got '${address}')"
[ -z "$gateway" ] || [[ $gateway =~ ^$ipv4$ ]] || die "--gateway must be A.B.C.D (got '${gateway}')"
[[ $size =~ ^([1-9][0-9]*)G$ ]] || die "--size must be whole GiB, e.g. 2G (got '${size}')"
size_gib=${size%G}
[ "$size_gib" -ge 1 ] || die "--size must be at least 1G"
[ "$(id -u)" = 0 ] || die "needs root (debootstrap chroots). Run it as root, e.g. sudo bash $0 …"

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found. Install it with: apt-get install -y $2   (or: sudo bash .ci/setup)"; }
need debootstrap debootstrap
need syslinux syslinux
need mcopy mtools
need mkfs.fat dosfstools
need sfdisk fdisk
need mkfs.ext4 e2fsprogs
need qemu-img qemu-utils
need flock util-linux
[ -r /usr/lib/syslinux/mbr/mbr.bin ] || die "syslinux's mbr.bin is missing. Install it with: apt-get install -y syslinux-common"

cache=${LSV_CACHE:-/var/cache/lockstep-test-vm}
mkdir -p "$cache"
key=$( (cat "${BASH_SOURCE[0]}"; echo "size=$size") | sha256sum | cut -c1-16)
base=$cache/base-$key.raw
# fixed ids, so the same script gives the same disk layout
readonly root_uuid=4c6f636b-7374-6570-2d74-6573742d766d
readonly boot_mib=64

mirror=${LSV_MIRROR:-}
if [ -z "$mirror" ]; then
  # the Debian mirror apt uses (deb822 `URIs:` or one-line `deb URL bookworm …`), not -security
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi

exec 9>"$cache/.lock"
flock 9

build_base() {
  local work=$cache/work-$key
  # what an interrupted or failed build left (kept for its logs until the next build, under the lock)
  rm -rf "$cache"/work-* "$cache"/tmp-*
  mkdir -p "$work"
  local root=$work/root
  # the initramfs carries only what mounts the root (small: built fast, loaded fast through the
  # BIOS); placed before debootstrap so the kernel's own postinst builds it that way, once
  mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/usr/share/initramfs-tools/modules.d"
  echo MODULES=list >"$root/etc/initramfs-tools/conf.d/lockstep-test-vm"
  printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic >"$root/usr/share/initramfs-tools/modules.d/lockstep-test-vm"
  say "debootstrap bookworm from $mirror (a few minutes)"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,udev,dbus,kmod,linux-image-amd64,initramfs-tools,zstd,e2fsprogs,iproute2,iputils-ping,procps,redis-server \
    bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }

  say "configuring systemd, networkd, Redis, the serial console"
  echo testvm >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 testvm\n' >"$root/etc/hosts"
  printf 'UUID=%s / ext4 errors=remount-ro 0 1\n' "$root_uuid" >"$root/etc/fstab"
  # Redis: stock package, reachable on the network, every write on disk before it is acknowledged
  sed -i -e 's/^bind .*/bind 0.0.0.0/' -e 's/^protected-mode .*/protected-mode no/' \
    -e 's/^appendonly .*/appendonly yes/' -e 's/^# *appendfsync always/appendfsync always/' \
    -e 's/^appendfsync everysec/# appendfsync everysec/' "$root/etc/redis/redis.conf"
  grep -q '^appendfsync always' "$root/etc/redis/redis.conf" || die "could not set appendfsync always in redis.conf"
  grep -q '^appendonly yes' "$root/etc/redis/redis.conf" || die "could not set appendonly yes in redis.conf"
  # root logs in on the serial console without a password (a test VM)
  mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
  printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM\n' \
    >"$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"
  chroot "$root" passwd -d root >/dev/null
  chroot "$root" systemctl enable systemd-networkd systemd-network-generator redis-server >/dev/null 2>&1
  # nothing that only slows a boot under TCG
  chroot "$root" systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
    e2scrub_all.timer e2scrub_reap.service fstrim.timer getty@tty1.service >/dev/null 2>&1
  local kernel initrd
  kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n1)
  initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -n1)
  [ -f "$kernel" ] && [ -f "$initrd" ] || die "no kernel or initramfs in the chroot's /boot"
  local listing
  listing=$(chroot "$root" lsinitramfs "/boot/${initrd##*/}") || die "lsinitramfs could not read ${initrd##*/}"
  grep -q '/virtio_blk\.ko$' <<<"$listing" || die "the initramfs has no virtio_blk (see $root/etc/initramfs-tools/conf.d)"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/*

  say "assembling the disk: MBR + syslinux, FAT16 /boot partition, ext4 root"
  local disk=$work/disk.raw total_mib=$((size_gib * 1024))
  truncate -s "${size_gib}G" "$disk"
  printf 'label: dos\nunit: sectors\nstart=2048, size=%d, type=6, bootable\nstart=%d, type=83\n' \
    $((boot_mib * 2048)) $(((boot_mib + 1) * 2048)) | sfdisk -q "$disk"
  dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
  mkfs.fat -F 16 -h 2048 -n BOOT -C "$work/boot.img" $((boot_mib * 1024)) >/dev/null
  mcopy -i "$work/boot.img" "$kernel" ::/vmlinuz
  mcopy -i "$work/boot.img" "$initrd" ::/initrd.img
  syslinux --install "$work/boot.img"
  dd if="$work/boot.img" of="$disk" bs=1M seek=1 conv=notrunc status=none
  truncate -s $(((total_mib - boot_mib - 1) * 1024))k "$work/root.img"
  mkfs.ext4 -q -F -L root -U "$root_uuid" -d "$root" "$work/root.img"
  dd if="$work/root.img" of="$disk" bs=1M seek=$((boot_mib + 1)) conv=notrunc,sparse status=none
  mv "$disk" "$base"
  rm -rf "$work"
}

if [ -f "$base" ]; then
  cached_base=yes
else
  cached_base=no
  build_base
fi

# per address: the kernel command line on the FAT partition carries the guest's network
addr_key=$(printf '%s %s' "$address" "$gateway" | sha256sum | cut -c1-8)
image=$cache/vm-$key-$addr_key.qcow2
if [ -f "$image" ]; then
  cached=$cached_base
else
  cached=no
  prefix=${address#*/}
  ip=${address%/*}
  mask=$(awk -v p="$prefix" 'BEGIN { for (i = 0; i < 4; i++) { b = (p >= 8) ? 8 : (p > 0 ? p : 0); p -= b; printf "%s%d", (i ? "." : ""), 256 - 2 ^ (8 - b) } }')
  tmp=$cache/tmp-$key-$addr_key.raw
  cp --sparse=always "$base" "$tmp"
  printf 'SERIAL 0 115200\nDEFAULT debian\nPROMPT 0\nTIMEOUT 0\nLABEL debian\n  KERNEL /vmlinuz\n  INITRD /initrd.img\n  APPEND root=UUID=%s ro console=tty0 console=ttyS0,115200 net.ifnames=0 ip=%s::%s:%s:testvm:eth0:off\n' \
    "$root_uuid" "$ip" "$gateway" "$mask" >"$cache/syslinux-$addr_key.cfg"
  mcopy -o -i "$tmp@@1M" "$cache/syslinux-$addr_key.cfg" ::/syslinux.cfg
  rm -f "$cache/syslinux-$addr_key.cfg"
  qemu-img convert -f raw -O qcow2 "$tmp" "$image.part"
  rm -f "$tmp"
  mv "$image.part" "$image"
fi
cp --reflink=auto "$image" "$out"
echo "cached: $cached"
echo "image: $image"
