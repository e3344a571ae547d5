#!/bin/sh
# The lttng-modules step of a user-supplied kernel's image (docs/versions.md):
# harness/tracers/lttng/build-in-image.sh, run with cwd/TB_SRC its own directory,
# except for one line. That script finds the -common tree of Debian's split
# headers from the build tree's Makefile (`include /usr/src/linux-headers-*-common/Makefile`);
# a self-contained tree's Makefile has only `include $(srctree)/arch/$(SRCARCH)/Makefile`
# lines there, which are not a tree, so `common` is emptied and the build tree is
# the source tree (mm/slab.h is looked for in it).
# The fix belongs in build-in-image.sh (take only an absolute path); it is kept
# out of it because any change there changes the default image's key.
set -eu
: "${KVER:?KVER not set}" "${TB_SRC:?TB_SRC not set}"
orig=$TB_SRC/build-in-image.sh
script=$(mktemp /tmp/lttng-build-in-image.XXXXXX)
trap 'rm -f "$script"' EXIT
sed 's|^common=\$(sed -n .*"\$KBUILD/Makefile")$|common=|' "$orig" >"$script"
if ! grep -q '^common=$' "$script"; then
	echo "lttng-modules (local kernel $KVER): $orig no longer has the line this wrapper replaces; update harness/image/local-kernel/lttng-modules.sh" >&2
	exit 1
fi
sh "$script"
