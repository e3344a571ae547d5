#!/bin/sh
# PID 1 of every tracebench boot (installed as /sbin/tb-init). Not systemd: mount
# what the job needs, run the job from the host share, sync, power off through
# sysrq so the kernel never sees init exit (which would panic).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
export PATH HOME
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# the root filesystem is read-only: everything that must be writable is tmpfs
for d in /tmp /run /var/tmp /var/log /var/lib/lttng /root /tb-trace; do
  mount -t tmpfs -o mode=0755 tmpfs "$d" 2>/dev/null
done
chmod 1777 /tmp /var/tmp
mkdir -p /run/lock
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
ip link set lo up
echo "TB-MARK init-up up=$(cut -d' ' -f1 /proc/uptime)" > /dev/console
modprobe -q 9pnet_virtio
modprobe -q 9p
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 tb /tb; then
  mkdir -p /tb/out
  sh /tb/job.sh > /tb/out/job.log 2>&1
  echo $? > /tb/out/job.rc
  sync
  umount /scratch 2>/dev/null
  umount /tb
else
  echo "TB-MARK job-failed mount-share" > /dev/console
fi
sync
echo "TB-MARK poweroff" > /dev/console
echo o > /proc/sysrq-trigger
# wait for the power-off with shell builtins only: the disks may already be gone
while :; do :; done
