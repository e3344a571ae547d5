#!/bin/sh
# pvh-vmlinux image step (contract: harness/image/recipe.ts): the kernel as an
# uncompressed ELF vmlinux, which QEMU enters directly through its PVH entry
# point (the XEN_ELFNOTE_PHYS32_ENTRY note, CONFIG_PVH). Under TCG the bzImage's
# decompressor and self-relocation took ~3-5 s of host time in every boot. A PVH
# entry skips both, and with them KASLR: the kernel's text sits at its link
# address in every boot (the manifest says so). Lab boxes and LAVA boot vmlinuz.
# A kernel without CONFIG_PVH gets no file, and QEMU boots vmlinuz as before.
# env: KVER, TB_INFO (key=value lines out)
set -eu
: "${KVER:?KVER not set}"
: "${TB_INFO:?TB_INFO not set}"
IMG=/boot/vmlinuz-$KVER
OUT=/boot/tb-vmlinux-pvh
rm -f "$OUT"
if ! grep -qx 'CONFIG_PVH=y' "/boot/config-$KVER"; then
	echo "pvh=no (CONFIG_PVH is off)" >>"$TB_INFO"
	exit 0
fi
W=$(mktemp)
trap 'rm -f "$W"' EXIT

is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }

# the payload starts at the first byte sequence of its compressor's magic; a
# decompressor complains about the bytes after the payload, so its status is not used
try() { # name magic(grep -P) command...
	name=$1 magic=$2; shift 2
	for off in $(LC_ALL=C grep -obUaP "$magic" "$IMG" 2>/dev/null | cut -d: -f1 | head -n 3); do
		tail -c +"$((off + 1))" "$IMG" | "$@" >"$W" 2>/dev/null || true
		if is_elf "$W"; then echo "$name"; return 0; fi
	done
	return 1
}
how=$(try zstd '\x28\xb5\x2f\xfd' zstd -dc ||
	try xz '\xfd\x37\x7a\x58\x5a\x00' xz -dc ||
	try gzip '\x1f\x8b\x08' gzip -dc ||
	try lz4 '\x02\x21\x4c\x18' lz4 -dc ||
	true)
[ -n "$how" ] || { echo "pvh-vmlinux: error: no zstd/xz/gzip/lz4 payload in $IMG decompresses to an ELF vmlinux" >&2; exit 1; }
# the PVH entry note: owner "Xen", type 18 (XEN_ELFNOTE_PHYS32_ENTRY)
if ! readelf -n "$W" | grep -Eq 'Xen.*(0x00000012|PHYS32_ENTRY)'; then
	echo "pvh-vmlinux: error: $IMG has CONFIG_PVH=y but its vmlinux has no PVH entry note" >&2
	exit 1
fi
cp "$W" "$OUT"
{
	echo "pvh=yes"
	echo "compression=$how"
	echo "bytes=$(stat -c %s "$OUT")"
} >>"$TB_INFO"
