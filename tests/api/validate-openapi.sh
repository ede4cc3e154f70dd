#!/usr/bin/env bash
# Validates docs/openapi.yaml with @seriousme/openapi-schema-validator (OpenAPI 3.1 schema, then
# every $ref), at the exact version package-lock.json pins. The npm install lives in WORKDIR (the
# build tree) and is redone only when the lock file changes, so that runs after the first need no
# network.   usage: validate-openapi.sh SOURCE_DIR WORKDIR
set -euo pipefail
src="$1"
work="$2"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are needed (scripts/deps.sh installs them)" >&2
    exit 1
fi
mkdir -p "$work"
if ! cmp -s "$src/tests/api/package-lock.json" "$work/package-lock.json" ||
    [ ! -d "$work/node_modules/@seriousme/openapi-schema-validator" ]; then
    cp "$src/tests/api/package.json" "$src/tests/api/package-lock.json" "$work/"
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$src/tests/api/validate.mjs" "$work/"
node "$work/validate.mjs" "$src/docs/openapi.yaml"
