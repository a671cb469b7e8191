#!/bin/sh
# /init of a QEMU kernel host's initramfs: load the virtio + 9p modules, mount the host's
# root (the machine's / under an overlay, shared by QEMU as 9p tag "root") and hand over to
# the lab's PID 1, /etc/lab/init (the same init as the user-mode Linux hosts).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
rel=$(cat /proc/sys/kernel/osrelease)
while read -r m; do
  insmod "/lib/modules/$rel/$m" || echo "lab-initramfs: cannot load $m"
done </load-order
i=0
until mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose root /newroot; do
  i=$((i + 1))
  [ $i -lt 50 ] || { echo "lab-initramfs: cannot mount the root (9p tag root)"; poweroff -f; }
  sleep 0.1
done
umount /proc /sys
umount /dev
exec switch_root /newroot /etc/lab/init
