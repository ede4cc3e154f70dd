#!/usr/bin/env bash
# Installs the reference MCP servers the tests run (servers/package.json, at the exact versions
# servers/package-lock.json pins) into WORKDIR, normally the build tree's mcp-npm. The install is
# redone only when the lock file changes, so that runs after the first need no network.
#   usage: install-servers.sh SOURCE_DIR WORKDIR
set -euo pipefail
src="$1/tests/mcp/servers"
work="$2"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are needed (scripts/deps.sh installs them)" >&2
    exit 1
fi
mkdir -p "$work"
if ! cmp -s "$src/package-lock.json" "$work/package-lock.json" ||
    [ ! -f "$work/node_modules/@modelcontextprotocol/server-everything/dist/index.js" ] ||
    [ ! -f "$work/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js" ]; then
    rm -f "$work/package-lock.json" # a failed install is retried next time
    cp "$src/package.json" "$work/"
    cp "$src/package-lock.json" "$work/package-lock.json.new"
    mv "$work/package-lock.json.new" "$work/package-lock.json"
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error) || {
        rm -f "$work/package-lock.json"
        exit 1
    }
fi
echo "MCP test servers installed in $work"
