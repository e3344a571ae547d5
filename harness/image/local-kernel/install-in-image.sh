#!/bin/sh
# Image build step for a user-supplied kernel (`source: local`, docs/versions.md).
# Runs in the image chroot before the tracer steps, with
#   KVER            the kernel release (the base name of the config's `modules`)
#   KERNEL_BZIMAGE  the bzImage, KERNEL_MODULES its /lib/modules/<release> tree,
#   KERNEL_HEADERS  a self-contained build/headers tree (copied in as step inputs)
#   TB_INFO         key=value facts out
# and installs the kernel the way a Debian kernel package would: modules in
# /lib/modules/$KVER, headers in /usr/src/linux-headers-$KVER with the build
# link, /boot/vmlinuz-$KVER and config-$KVER, then depmod and Debian's initramfs
# (virtio_blk and ext4 may be modules) at /boot/initrd.img-$KVER.
set -eu
: "${KVER:?KVER not set}" "${TB_INFO:?TB_INFO not set}"
: "${KERNEL_BZIMAGE:?}" "${KERNEL_MODULES:?}" "${KERNEL_HEADERS:?}"

die() {
	echo "local kernel $KVER: $*" >&2
	exit 1
}

# the later steps and the harness take the one release there is: no other may exist
for d in /lib/modules/*; do
	[ -e "$d" ] || continue
	[ "$(basename "$d")" = "$KVER" ] || die "/lib/modules/$(basename "$d") exists besides $KVER (was a Debian kernel package installed?)"
done

mods=/lib/modules/$KVER
hdr=/usr/src/linux-headers-$KVER
mkdir -p /lib/modules /usr/src /boot
rm -rf "$mods" "$hdr"
# the inputs are the image's own copies: move them rather than keeping two
mv "$KERNEL_MODULES" "$mods"
mv "$KERNEL_HEADERS" "$hdr"
# a build tree's own links point at host paths
rm -rf "$mods/build" "$mods/source"
ln -s "$hdr" "$mods/build"
[ -f "$hdr/Makefile" ] && [ -f "$hdr/.config" ] || die "headers tree has no Makefile or .config"
install -m 0644 "$KERNEL_BZIMAGE" "/boot/vmlinuz-$KVER"
rm -f "$KERNEL_BZIMAGE"
install -m 0644 "$hdr/.config" "/boot/config-$KVER"
[ -f "$hdr/System.map" ] && install -m 0644 "$hdr/System.map" "/boot/System.map-$KVER"

depmod "$KVER" || die "depmod failed"
update-initramfs -c -k "$KVER" || die "update-initramfs failed"
[ -s "/boot/initrd.img-$KVER" ] || die "no /boot/initrd.img-$KVER after update-initramfs"

nmods=$(find "$mods" -name '*.ko*' | wc -l)
{
	echo "release=$KVER"
	echo "bzImageSha256=$(sha256sum "/boot/vmlinuz-$KVER" | cut -d' ' -f1)"
	echo "configSha256=$(sha256sum "/boot/config-$KVER" | cut -d' ' -f1)"
	echo "modules=$nmods"
} >"$TB_INFO"
echo "local kernel $KVER installed: $nmods modules, initrd $(du -h "/boot/initrd.img-$KVER" | cut -f1)"
