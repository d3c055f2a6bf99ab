#!/bin/sh
# The layering the build enforces (docs/design.md): methods/ and tools/ reach the kernels only
# through engine ops, so none of their files includes kernels/ or the engine's internal
# dispatch header (tools/kernel_bench.cpp, the kernels' own benchmark, excepted), and no engine
# header that methods and tools include (all but engine/ops/dispatch.h) includes kernels/.
# Usage: check_layering.sh REPO_ROOT; prints each offending line and fails if there is one.
cd "$1" || exit 2
bad=$(grep -rnE '#include "(kernels/|engine/ops/dispatch\.h)' methods tools | grep -v '^tools/kernel_bench\.cpp:')
bad="$bad$(grep -rn '#include "kernels/' --include='*.h' engine | grep -v '^engine/ops/dispatch\.h:')"
[ -z "$bad" ] && exit 0
echo "layering violations (docs/design.md):"
echo "$bad"
exit 1
