#!/bin/sh
# Image build step (contract: harness/image/recipe.ts): build Debian's
# lttng-modules source (or the one LTTNG_MODULES_SRC names) against the image
# kernel's headers, with the compat patches that the headers (never the
# version number) say are needed.
#
# Why not just install lttng-modules-dkms: its DKMS build runs at install time,
# fails against Debian's kernels (hrtimer_start gained a third argument) and
# leaves an image without LTTng that looks fine until a run starts.
#
# env: KVER (kernel release), TB_SRC (this directory), TB_INFO (key=value out),
# optional LTTNG_MODULES_SRC: a source tree or .tar.* tarball to build instead of
# Debian's package (a kernel config's `lttngModules`; docs/versions.md)
set -eu

: "${KVER:?KVER not set}" "${TB_SRC:?TB_SRC not set}" "${TB_INFO:?TB_INFO not set}"

KBUILD=/lib/modules/$KVER/build
PATCHES=$TB_SRC/patches
# where the harness's versionCommands read the build facts back in the guest
INFO_COPY=/usr/share/tracebench/lttng-modules.info
# modules installed here take precedence over any in-tree copy (depmod search order)
INSTALL_MOD_DIR=updates/lttng

upstream_version=unknown
die() {
  echo "lttng-modules build failed (kernel $KVER, lttng-modules $upstream_version): $*" >&2
  exit 1
}

[ -f "$KBUILD/Makefile" ] || die "no kernel build tree at $KBUILD (is linux-headers-$KVER installed?)"

# --- 1. source: Debian's package, or the tree/tarball the kernel config names
work=$(mktemp -d /tmp/lttng-modules.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
if [ -n "${LTTNG_MODULES_SRC:-}" ]; then
  # a source tree or .tar.* tarball copied in from the host (harness/image/recipe.ts)
  [ -e "$LTTNG_MODULES_SRC" ] || die "LTTNG_MODULES_SRC=$LTTNG_MODULES_SRC does not exist in the image"
  if [ -d "$LTTNG_MODULES_SRC" ]; then
    # every file with its path, sorted bytewise: the same tree gives the same hash anywhere
    src_hash=sha256:$(cd "$LTTNG_MODULES_SRC" && find . -type f -print | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum | cut -d' ' -f1)
    cp -a "$LTTNG_MODULES_SRC" "$work/tree"
    pkgsrc=$work/tree
  else
    src_hash=sha256:$(sha256sum "$LTTNG_MODULES_SRC" | cut -d' ' -f1)
    mkdir "$work/tar"
    # GNU tar picks the decompressor from the content (gzip, xz, zstd are in the image)
    tar -xf "$LTTNG_MODULES_SRC" -C "$work/tar" || die "cannot unpack $LTTNG_MODULES_SRC"
    # a release tarball holds one top directory; a tarball of the tree's content holds src/ itself
    if [ -f "$work/tar/src/Kbuild" ]; then pkgsrc=$work/tar; else pkgsrc=$(ls -d "$work"/tar/*/ | head -n 1); pkgsrc=${pkgsrc%/}; fi
  fi
  [ -f "$pkgsrc/src/Kbuild" ] || die "$LTTNG_MODULES_SRC is not an lttng-modules (2.13 or later) source: no src/Kbuild"
  pkg_source=path:${LTTNG_MODULES_SRC##*/}
  # the version the tree says it is (include/lttng/tracer.h), not what its directory is called
  tracer_h=$pkgsrc/include/lttng/tracer.h
  v() { sed -n "s/^#define LTTNG_MODULES_$1 *\"*\([^\"]*\)\"*.*/\1/p" "$tracer_h" | head -n 1; }
  upstream_version=$(v MAJOR_VERSION).$(v MINOR_VERSION).$(v PATCHLEVEL_VERSION)$(v EXTRAVERSION)
  case $upstream_version in ..*|*..*|.) upstream_version=unknown ;; esac
  # a tree built on the host must not leave its objects in the build
  make -C "$pkgsrc" clean >/dev/null 2>&1 || true
else
  # the image build may have cleaned the package lists; refresh them only then
  if ! apt-get download lttng-modules-dkms >"$work/apt.log" 2>&1; then
    apt-get update -q >>"$work/apt.log" 2>&1 || true
    apt-get download lttng-modules-dkms >>"$work/apt.log" 2>&1 ||
      { cat "$work/apt.log" >&2; die "apt-get download lttng-modules-dkms failed"; }
  fi
  deb=$(ls "$work"/lttng-modules-dkms_*.deb)
  pkg_source="debian:lttng-modules-dkms $(dpkg-deb -f "$deb" Version)"
  src_hash=sha256:$(sha256sum "$deb" | cut -d' ' -f1)
  dpkg-deb -x "$deb" "$work/pkg"
  pkgsrc=$(ls -d "$work"/pkg/usr/src/lttng-modules-*)
  upstream_version=${pkgsrc##*/lttng-modules-}
fi
SRC=/usr/src/lttng-modules-$upstream_version
# start from the pristine tree every time, so a rebuild never stacks patches
rm -rf "$SRC"
mv "$pkgsrc" "$SRC"

# --- 2. detection: which compat patches do these headers need? -----------
# Debian's -amd64 build tree holds only generated headers; the tracepoint
# definitions live in the -common tree its Makefile includes (= source link).
timer_h=
common=$(sed -n 's|^include \(.*\)/Makefile$|\1|p' "$KBUILD/Makefile")
for d in "$KBUILD" "/lib/modules/$KVER/source" ${common:+"$common"}; do
  if [ -f "$d/include/trace/events/timer.h" ]; then timer_h=$d/include/trace/events/timer.h; break; fi
done
[ -n "$timer_h" ] || die "cannot find include/trace/events/timer.h for $KVER to detect the hrtimer_start prototype"

# TP_PROTO of hrtimer_start, joined onto one line: its argument count decides
hrtimer_proto=$(sed -n '/TRACE_EVENT(hrtimer_start,/,/TP_ARGS/p' "$timer_h" | tr '\n\t' '  ' |
  sed -n 's/.*TP_PROTO(\([^)]*\)).*/\1/p')
[ -n "$hrtimer_proto" ] || die "no TRACE_EVENT(hrtimer_start) TP_PROTO in $timer_h"
hrtimer_nargs=$(( $(printf '%s' "$hrtimer_proto" | tr -cd ',' | wc -c) + 1 ))

patches= # space-separated names of patches/*.patch to apply
defines=
case $hrtimer_nargs in
  2) ;; # the prototype lttng-modules 2.13 knows
  3)
    # A later lttng-modules may know the 3-argument form itself: patch only when it does not.
    if grep -q was_armed "$SRC/include/instrumentation/events/timer.h"; then :; else
      patches=${patches:+$patches }hrtimer-start-was-armed
      defines=-DLTTNG_HRTIMER_START_WAS_ARMED
    fi ;;
  *) die "unknown hrtimer_start prototype in $timer_h: TP_PROTO($hrtimer_proto)" ;;
esac

for p in $patches; do
  patch -d "$SRC" -p1 --forward --batch --quiet <"$PATCHES/$p.patch" ||
    die "patch $p.patch does not apply to lttng-modules $upstream_version"
done

# --- 3. kernel-internal header the kmem probe needs ----------------------
# lttng-probe-kmem includes <../../mm/slab.h>, which headers packages do not
# ship; without it the probe is silently skipped and page_alloc/page_free
# cannot be armed. Take the file from the linux-source tarball of exactly the
# same Debian version (a struct layout from another version would be wrong),
# into a private tree: the kernel's headers package stays untouched.
srctree=${common:-$KBUILD}
kmem_vars=
kmem_from="kernel tree"
if [ ! -f "$srctree/mm/slab.h" ]; then
  headers_version=$(dpkg-query -W -f='${Version}' "linux-headers-$KVER" 2>/dev/null || true)
  internal=$SRC/kernel-internal
  for tarball in /usr/src/linux-source-*.tar.xz; do
    [ -f "$tarball" ] || continue
    owner=$(dpkg -S "$tarball" 2>/dev/null | cut -d: -f1)
    [ -n "$owner" ] && [ "$(dpkg-query -W -f='${Version}' "$owner")" = "$headers_version" ] || continue
    top=$(basename "$tarball" .tar.xz)
    mkdir -p "$internal/include/uapi"
    tar -xJf "$tarball" -C "$internal" --strip-components=1 --occurrence=1 "$top/mm/slab.h"
    kmem_from="$owner $headers_version"
  done
  [ -f "$internal/mm/slab.h" ] ||
    die "mm/slab.h (needed by lttng-probe-kmem) is not in $srctree and no linux-source tarball of version ${headers_version:-?} is installed"
  # <../../mm/slab.h> resolves against $internal/include/uapi, as it does
  # against $(srctree)/include/uapi in a full tree; kmem_dep overrides the
  # probe Kbuild's existence check, which looks only in $(srctree).
  defines="$defines -I$internal/include/uapi"
  kmem_vars="kmem_dep=$internal/mm/slab.h"
fi

# --- 4. build, install, depmod -------------------------------------------
log=$work/build.log
echo "building lttng-modules $upstream_version for $KVER (patches: ${patches:-none}) ..."
# CONFIG_LTTNG=m is what lttng-modules' own Makefile passes (there is no Kconfig
# for an out-of-tree build). The clock test plugin DKMS also builds is left out:
# nothing we run loads it.
if ! make -C "$KBUILD" M="$SRC/src" CONFIG_LTTNG=m KCPPFLAGS="$defines" $kmem_vars \
  -j"$(nproc)" modules >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  first=$(grep -m1 -E '(error|Error):' "$log" || grep -m1 -E 'Error [0-9]+' "$log" || echo "(no compiler error line; see above)")
  die "first error: $first"
fi

# a rebuild must not leave modules of an earlier build next to the new ones
rm -rf "/lib/modules/$KVER/$INSTALL_MOD_DIR"
# Debian's config signs modules at install (CONFIG_MODULE_SIG_ALL) with a key
# that is not shipped; unset it rather than let sign-file fail noisily. The
# modules load unsigned (CONFIG_MODULE_SIG_FORCE is off; the kernel is tainted E).
# INSTALL_MOD_STRIP: without it lttng-tracer.ko carries 50 MB of debug info, which
# the kernel reads and copies at every load: 5 s of each boot's tracer setup under TCG.
make -C "$KBUILD" M="$SRC/src" CONFIG_LTTNG=m KCPPFLAGS="$defines" $kmem_vars CONFIG_MODULE_SIG_ALL= \
  INSTALL_MOD_STRIP=1 INSTALL_MOD_DIR="$INSTALL_MOD_DIR" modules_install >>"$log" 2>&1 ||
  { tail -n 20 "$log" >&2; die "modules_install failed"; }
# uncompressed: modules_install xz-compresses them (CONFIG_MODULE_COMPRESS_ALL), and
# the kernel's xz decompression of ~20 modules took most of a 50 s (instruction-time)
# tracer setup under TCG with icount, plus modinfo's in the version record
find "/lib/modules/$KVER/$INSTALL_MOD_DIR" -name '*.ko.xz' -exec xz -d {} +
find "/lib/modules/$KVER/$INSTALL_MOD_DIR" -name '*.ko.zst' -exec zstd -q -d --rm {} +
find "/lib/modules/$KVER/$INSTALL_MOD_DIR" -name '*.ko.gz' -exec gzip -d {} +
depmod "$KVER"

# An lttng-modules build silently skips probes whose kernel options are off:
# check that what the driver loads and arms is really installed.
for m in lttng-tracer lttng-lib-ring-buffer lttng-statedump \
  lttng-ring-buffer-client-discard lttng-ring-buffer-client-overwrite \
  lttng-ring-buffer-metadata-client lttng-ring-buffer-client-mmap-discard \
  lttng-ring-buffer-client-mmap-overwrite lttng-ring-buffer-metadata-mmap-client \
  lttng-probe-sched lttng-probe-timer lttng-probe-irq lttng-probe-kmem \
  lttng-probe-napi lttng-probe-net lttng-probe-block; do
  modinfo -k "$KVER" -F filename "$m" >/dev/null 2>&1 || die "module $m was not built or installed"
done
nmodules=$(find "/lib/modules/$KVER/$INSTALL_MOD_DIR" -name '*.ko*' | wc -l)
modversion=$(modinfo -k "$KVER" -F version lttng-tracer)

# drop object files: the source stays for reference, the image stays small
make -C "$KBUILD" M="$SRC/src" clean >/dev/null 2>&1 || true

# --- 5. record what was built --------------------------------------------
mkdir -p "${INFO_COPY%/*}"
{
  echo "version=$upstream_version"
  echo "moduleVersion=$modversion"
  echo "patches=$(printf '%s' "${patches:-none}" | tr ' ' ',')"
  echo "source=$pkg_source"
  echo "srcHash=$src_hash"
  echo "hrtimerStartArgs=$hrtimer_nargs"
  echo "slabHeader=$kmem_from"
  echo "modules=$nmodules"
  echo "installDir=/lib/modules/$KVER/$INSTALL_MOD_DIR"
} | tee "$INFO_COPY" >>"$TB_INFO"
echo "lttng-modules $upstream_version: $nmodules modules installed for $KVER (patches: ${patches:-none})"
