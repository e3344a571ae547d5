#!/bin/sh
# pipe-pingpong image step (contract: harness/image/recipe.ts): compile the
# microbenchmark into the image, so the guest only runs it (compiling it in every
# boot cost ~4.5 s under TCG).
# env: KVER, TB_SRC (this directory), TB_INFO (key=value lines out)
set -eu
: "${TB_SRC:?TB_SRC not set}"
: "${TB_INFO:?TB_INFO not set}"

gcc -O2 -Wall -o /usr/local/bin/tb-pingpong "$TB_SRC/pingpong.c"

{
	echo "source_sha256=$(sha256sum "$TB_SRC/pingpong.c" | cut -c1-16)"
	echo "gcc=$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)"
} >>"$TB_INFO"
