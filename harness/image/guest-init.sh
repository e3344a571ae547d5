#!/bin/sh
# PID 1 of every tracebench boot (installed as /sbin/tb-init). Not systemd: mount
# what the job needs, run the job from its share, sync, power off (or reboot)
# through sysrq so the kernel never sees init exit (which would panic).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
export PATH HOME
# One mount(8) for all of them: under TCG every exec costs 0.03-0.1 s of host time, and
# fifteen mounts were ~0.7 s of each boot. libmount cannot parse a pipe, so the table
# goes to the one writable place there is yet (devtmpfs), written with shell builtins.
# The root filesystem is read-only: everything that must be writable is tmpfs.
while IFS= read -r l; do echo "$l"; done > /dev/.tb-fstab <<'EOF'
proc /proc proc defaults 0 0
sysfs /sys sysfs defaults 0 0
devtmpfs /dev devtmpfs defaults 0 0
devpts /dev/pts devpts X-mount.mkdir 0 0
tmpfs /dev/shm tmpfs mode=1777,X-mount.mkdir 0 0
tmpfs /tmp tmpfs mode=1777 0 0
tmpfs /run tmpfs mode=0755 0 0
tmpfs /var/tmp tmpfs mode=1777 0 0
tmpfs /var/log tmpfs mode=0755 0 0
tmpfs /var/lib/lttng tmpfs mode=0755 0 0
tmpfs /root tmpfs mode=0755 0 0
tmpfs /tb-trace tmpfs mode=0755 0 0
debugfs /sys/kernel/debug debugfs defaults 0 0
tracefs /sys/kernel/tracing tracefs defaults 0 0
EOF
mount -a -T /dev/.tb-fstab
mkdir -p /run/lock
ip link set lo up
# builtins where a command would do: under TCG a fork and an exec cost ~0.05-0.1 s
read up _ < /proc/uptime
echo "TB-MARK init-up up=$up" > /dev/console
# How the job share and the scratch disk reach this kernel, and how the boot ends,
# is the machine's business (harness/machines/*): it says so on the command line.
#   tb.share=9p:<tag> | <device, LABEL=... or UUID=...>   where job.sh is, and out/ goes
#   tb.scratch=<device, LABEL=... or UUID=...>             a fresh ext4 for the workloads
#   tb.end=poweroff | reboot                               QEMU exits; a lab box returns to its base OS
share= scratch= end=poweroff
read -r cmdline < /proc/cmdline
for w in $cmdline; do
  case "$w" in
    tb.share=*) share=${w#tb.share=} ;;
    tb.scratch=*) scratch=${w#tb.scratch=} ;;
    tb.end=*) end=${w#tb.end=} ;;
  esac
done
export TB_SCRATCH_DEV="$scratch"
case "$share" in
  9p:*)
    # the virtio initramfs has loaded both already
    [ -d /sys/module/9pnet_virtio ] || modprobe -q 9pnet_virtio
    [ -d /sys/module/9p ] || modprobe -q 9p
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 "${share#9p:}" /tb ;;
  ?*) mount -t ext4 "$share" /tb ;;
  *) false ;;
esac
if [ $? = 0 ]; then
  mkdir -p /tb/out
  # the machine's own preparation (a lab box brings up its NIC for the armed-set handshake)
  [ -f /tb/machine.sh ] && sh /tb/machine.sh > /tb/out/machine.log 2>&1
  sh /tb/job.sh > /tb/out/job.log 2>&1
  echo $? > /tb/out/job.rc
  sync
  umount /scratch 2>/dev/null
  umount /tb
else
  echo "TB-MARK job-failed mount-share" > /dev/console
fi
sync
echo "TB-MARK $end" > /dev/console
if [ "$end" = reboot ]; then echo b > /proc/sysrq-trigger; else echo o > /proc/sysrq-trigger; fi
# wait for the power-off with shell builtins only: the disks may already be gone
while :; do :; done
