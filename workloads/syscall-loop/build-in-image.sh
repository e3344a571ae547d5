#!/bin/sh
# syscall-loop image step (contract: harness/image/recipe.ts): compile the microbenchmark
# into the image, so the guest (read-only root) only runs it.
# env: KVER, TB_SRC (this directory), TB_INFO (key=value lines out)
set -eu
: "${TB_SRC:?TB_SRC not set}"
: "${TB_INFO:?TB_INFO not set}"

# -O2 as for any benchmark binary; the timed loop is syscall(), which no optimisation removes.
gcc -O2 -Wall -o /usr/local/bin/tb-syscall-loop "$TB_SRC/syscall-loop.c" -lpthread

{
	echo "version=$(sed -n 's/^#define TB_VERSION //p' "$TB_SRC/syscall-loop.c")"
	echo "source_sha256=$(sha256sum "$TB_SRC/syscall-loop.c" | cut -c1-16)"
	echo "gcc=$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)"
} >>"$TB_INFO"
