# Shared by the packaging checks: failure counting and a headless smoke test.
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 not installed ($2)" >&2; exit 77; }; }

# healthz BINARY: starts `BINARY --headless --listen 127.0.0.1:0 --store memory:`, reads the URL
# from its first line, GETs /healthz, stops it by PID.
healthz() {
    out=$(mktemp) err=$(mktemp)
    "$1" --headless --listen 127.0.0.1:0 --store memory: --config /dev/null >"$out" 2>"$err" &
    pid=$!
    url=""
    for _ in $(seq 1 100); do
        url=$(sed -n 's/^listening on //p' "$out" | head -n 1)
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    body=""
    if [ -n "$url" ]; then
        body=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=10).read().decode())' "$url" 2>&1)
    fi
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    code=$?
    case "$body" in
        *'"status":"ok"'*) pass "$1 --headless answers /healthz: $body" ;;
        *) fail "$1 --headless: no /healthz answer (url '$url', body '$body'): $(tail -n 5 "$err")" ;;
    esac
    [ "$code" -eq 0 ] || fail "$1 --headless exited $code on SIGTERM, expected 0"
    rm -f "$out" "$err"
}
