#!/bin/sh
# virtio-initrd image step (contract: harness/image/recipe.ts): a minimal initramfs
# for guests whose root is a virtio disk and whose job share is 9p (the QEMU
# machine). Debian's initramfs
# (udev coldplug, every storage driver, ~35 MB) took ~10 s of each boot under TCG;
# this one loads the root's drivers with busybox, mounts the root and switches to
# init=. Lab boxes and LAVA boot Debian's initramfs: real hardware needs its drivers.
# env: KVER, TB_SRC (this directory), TB_INFO (key=value lines out)
set -eu
: "${KVER:?KVER not set}"
: "${TB_SRC:?TB_SRC not set}"
: "${TB_INFO:?TB_INFO not set}"
OUT=/boot/tb-initrd-virtio.img
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

mkdir -p "$W/bin" "$W/dev" "$W/proc" "$W/root" "$W/lib/modules"
cp /bin/busybox "$W/bin/busybox"
# a static busybox: nothing else in the initramfs needs a library
if ldd "$W/bin/busybox" >/dev/null 2>&1; then echo "virtio-initrd: error: /bin/busybox is not static (install busybox-static)" >&2; exit 1; fi
cp "$TB_SRC/init" "$W/init"
chmod 0755 "$W/init"

# the root's and the job share's (9p) drivers in load order, uncompressed: the
# kernel's own xz decompression of a module is slow under TCG, most of all under
# icount, and tb-init's modprobe of 9p then finds it loaded. Built-in ones print
# "builtin" and need nothing.
: > "$W/modules"
# virtio_mmio: QEMU's microvm machine has no PCI, its virtio devices sit on MMIO
# (described in its ACPI tables); a q35 guest loads it and it binds nothing
for m in virtio_pci virtio_mmio virtio_blk ext4 9pnet_virtio 9p; do
	modprobe -S "$KVER" --show-depends "$m" || { echo "virtio-initrd: error: no module or built-in $m for $KVER" >&2; exit 1; }
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
	name=$(basename "$ko")
	case "$name" in
	*.ko.xz) xz -dc "$ko" >"$W/lib/modules/${name%.xz}"; name=${name%.xz} ;;
	*.ko.zst) zstd -qdc "$ko" >"$W/lib/modules/${name%.zst}"; name=${name%.zst} ;;
	*.ko.gz) gzip -dc "$ko" >"$W/lib/modules/${name%.gz}"; name=${name%.gz} ;;
	*) cp "$ko" "$W/lib/modules/$name" ;;
	esac
	# unsigned: checking a signature (sha512 + RSA) under emulation took ~1 s of each
	# boot. An unsigned module taints the kernel "E", as every tracer's module does.
	strip --strip-debug "$W/lib/modules/$name"
	echo "/lib/modules/$name" >>"$W/modules"
done

# uncompressed: the kernel's gunzip of it (6 MB) took 0.8 s of each boot under icount;
# QEMU loads the bigger file from the host's page cache in milliseconds
(cd "$W" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$OUT"

{
	echo "modules=$(sed 's,.*/,,; s,\.ko$,,' "$W/modules" | tr '\n' ' ' | sed 's/ $//')"
	echo "busybox=$(/bin/busybox 2>&1 | head -n 1 | sed -n 's/^BusyBox \(v[^ ]*\).*/\1/p')"
	echo "bytes=$(stat -c %s "$OUT")"
	echo "init_sha256=$(sha256sum "$TB_SRC/init" | cut -c1-16)"
} >>"$TB_INFO"
