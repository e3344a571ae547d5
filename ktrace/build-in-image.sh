#!/bin/sh
# Image build step (harness/image/recipe.ts): runs as root in the image chroot
# with KVER, TB_SRC (= cwd) and TB_INFO set. Builds ktrace.ko against the
# image kernel's headers, installs it under /lib/modules/$KVER/extra and
# records its version and a hash of its sources in $TB_INFO.
# Optional KTRACE_SRC: another ktrace source tree to build instead of TB_SRC
# (a kernel config's `ktrace` path; docs/versions.md).
set -eu

: "${KVER:?KVER (image kernel release) is not set}"
: "${TB_SRC:?TB_SRC is not set}"
: "${TB_INFO:?TB_INFO is not set}"

SRC=${KTRACE_SRC:-$TB_SRC}
[ -f "$SRC/Kbuild" ] || { echo "ktrace: $SRC is not a ktrace source tree (no Kbuild)" >&2; exit 1; }

KDIR=/lib/modules/$KVER/build
if [ ! -d "$KDIR" ]; then
	echo "ktrace: no kernel headers for $KVER at $KDIR (install linux-headers-$KVER)" >&2
	exit 1
fi

# Build in a scratch copy so the source directory stays as it was copied in.
BUILD=$(mktemp -d /tmp/ktrace-build.XXXXXX)
trap 'rm -rf "$BUILD"' EXIT
cp "$SRC"/Kbuild "$SRC"/Makefile "$SRC"/*.c "$SRC"/*.h "$BUILD"/

LOG=$BUILD/build.log
if ! make -C "$KDIR" M="$BUILD" modules >"$LOG" 2>&1; then
	cat "$LOG" >&2
	first=$(grep -m1 -E 'error:|Error [0-9]' "$LOG" || true)
	echo "ktrace: build failed against kernel $KVER: ${first:-see the log above}" >&2
	exit 1
fi

install -D -m 0644 "$BUILD/ktrace.ko" "/lib/modules/$KVER/extra/ktrace.ko"
# as modules_install INSTALL_MOD_STRIP=1 would: the kernel reads and copies the
# whole file at load, and debug info is most of it
strip --strip-debug "/lib/modules/$KVER/extra/ktrace.ko"
depmod "$KVER"

version=$(modinfo -F version "$BUILD/ktrace.ko")
if [ -n "${KTRACE_SRC:-}" ]; then source=path:${KTRACE_SRC##*/}; else source=repo; fi
# the hash covers exactly the files the module is built from
srcHash=$(cd "$SRC" && cat Kbuild Makefile *.c *.h | sha256sum | cut -d' ' -f1)
{
	echo "version=$version"
	echo "srcHash=$srcHash"
	echo "source=$source"
} >>"$TB_INFO"
echo "ktrace: installed /lib/modules/$KVER/extra/ktrace.ko (version $version)"
