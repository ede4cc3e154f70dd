#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) and runs each one for a
# bounded time on a copy of its seed corpus (tests/fuzz/corpus/<target>). Any crash, sanitizer
# report, failed check, timeout or out-of-memory fails the script; the input that did it is kept
# as <build>/artifacts/<target>-crash-… (replay: <build>/tests/fuzz/<target> FILE).
#   scripts/fuzz.sh                      every target, FUZZ_SECONDS each (default 30)
#   FUZZ_SECONDS=600 scripts/fuzz.sh fuzz_http_request     one target, longer
#   FUZZ_BUILD_DIR=build/myfuzz scripts/fuzz.sh            another build folder (default build/fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"
dir="${FUZZ_BUILD_DIR:-build/fuzz}"
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(fuzz_http_request fuzz_json_body fuzz_sse fuzz_ollama_ndjson fuzz_settings)
fi
if ! command -v clang++ >/dev/null; then
    echo "fuzz.sh: clang++ is missing (scripts/deps.sh installs clang and libclang-rt-14-dev)" >&2
    exit 1
fi
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DHOLDFAST_BUILD_TESTS=OFF -DHOLDFAST_BUILD_GUI=OFF -DHOLDFAST_FUZZ=ON \
    -DHOLDFAST_WERROR="${HOLDFAST_WERROR:-OFF}" "${launcher[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"

mkdir -p "$dir/artifacts"
export QT_QPA_PLATFORM=offscreen
summary=()
status=0
for t in "${targets[@]}"; do
    work="$dir/corpus/$t"
    mkdir -p "$work"
    cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    log="$dir/artifacts/$t.log"
    echo "== $t: ${seconds}s"
    start=$(date +%s)
    # -timeout: one input running 25 s is a hang; -rss_limit_mb: memory growth is a finding too.
    if "$dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" "$work" >"$log" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
        tail -n 60 "$log"
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    summary+=("$t: $result, ${runs:-?} executions in $(( $(date +%s) - start ))s, corpus $(ls "$work" | wc -l) inputs")
done
printf '%s\n' "${summary[@]}"
exit "$status"
