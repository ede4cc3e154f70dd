#!/usr/bin/env bash
# The repository's .clang-format on every tracked C++ file (*.cpp, *.h).
#   scripts/format.sh            reformat them in place
#   scripts/format.sh --check    change nothing; fail, naming the files, if one is not formatted
#                                (.ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
    echo "format.sh: clang-format is missing (scripts/deps.sh installs it)" >&2
    exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -d '' files < <(git ls-files -z -- '*.cpp' '*.h')
else # a source tarball: the same files, minus the build folders
    mapfile -d '' files < <(find src tests -path '*/build' -prune -o \( -name '*.cpp' -o -name '*.h' \) -print0)
fi
if [ "${1:-}" = "--check" ]; then
    clang-format --dry-run --Werror "${files[@]}"
    echo "format.sh: ${#files[@]} files formatted"
else
    clang-format -i "${files[@]}"
fi
