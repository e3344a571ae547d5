#!/bin/sh
# kernbench image step (contract: harness/image/recipe.ts). Runs in the image chroot.
#
# Prepares ONE kernel tree from Debian's linux-source package for the image kernel,
# configured with tinyconfig and `make prepare` already done, so a guest run times
# only compilation. The guest root is read-only: runs build on an overlayfs whose
# lower layer is this tree (see workloads/kernbench/index.ts).
#
# A defconfig .config is saved next to the tree for lab runs; those runs do
# `make olddefconfig prepare` on the overlay first, untimed, in the workload's setup.
# Only one prepared tree is kept to keep the image small; it still adds ~1.7 GB.
# Cost at image build: ~0.5-1.5 min on 2 CPUs (unpack dominates; tinyconfig prepare is short).
#
# env: KVER (image kernel release), TB_SRC (this directory), TB_INFO (key=value out)
set -eu

: "${KVER:?KVER not set}"
: "${TB_INFO:?TB_INFO not set}"

dest=/usr/src/kernbench
tree=$dest/linux

# Debian names the source tarball by major.minor (linux-source-6.12.tar.xz), so pick
# the one that matches the image kernel rather than whatever happens to be there.
majmin=$(echo "$KVER" | cut -d. -f1,2)
tarball=/usr/src/linux-source-$majmin.tar.xz
if [ ! -f "$tarball" ]; then
	echo "kernbench: $tarball not found (is linux-source for $KVER installed?)" >&2
	ls /usr/src >&2 || true
	exit 1
fi
srcver=$(dpkg-query -W -f '${Version}' "linux-source-$majmin" 2>/dev/null || echo unknown)

rm -rf "$dest"
mkdir -p "$tree"
echo "kernbench: unpacking $tarball"
tar -xJf "$tarball" -C "$tree" --strip-components=1

jobs=$(nproc)
cd "$tree"

# The full tree stays (~1.7 GB): pruning other architectures breaks Kconfig, which
# sources e.g. arch/arm/crypto/Kconfig from crypto/Kconfig on every architecture.

# defconfig first, saved aside; then the tree itself is left on tinyconfig.
echo "kernbench: saving defconfig"
make -s defconfig
cp .config "$dest/defconfig.config"

echo "kernbench: tinyconfig + prepare (-j$jobs)"
make -s tinyconfig
make -s -j"$jobs" prepare

# Nothing in the tree is meant to change at run time; the tarball is no longer needed
# by us but belongs to the linux-source package, so it stays.
cfghash=$(sha256sum .config | cut -c1-16)
defhash=$(sha256sum "$dest/defconfig.config" | cut -c1-16)
gccver=$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)

{
	echo "version=linux-source-$majmin $srcver"
	echo "tree=$tree"
	echo "config=tinyconfig sha256:$cfghash (prepared)"
	echo "defconfig=$dest/defconfig.config sha256:$defhash (olddefconfig+prepare at run time)"
	echo "gcc=$gccver"
} >>"$TB_INFO"
echo "kernbench: done"
