#!/usr/bin/env bash
# Installs what building, testing and running Holdfast needs, from Debian 12's archive.
# Used by scripts/install.sh, scripts/test.sh and .ci/run: the one list of dependencies.
set -euo pipefail
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
packages=(
    build-essential cmake ninja-build pkg-config clang-format
    qt6-base-dev qcoro-qt6-dev libqt6sql6-sqlite libgl-dev qtkeychain-qt6-dev libsqlite3-dev
    qt6-pdf-dev # the text of PDF attachments (src/provider/pdftext.h)
    # Translations: lupdate and lrelease (qt6-l10n-tools), and their CMake package
    # Qt6LinguistTools (qt6-tools-dev); tst_translations runs lupdate.
    qt6-l10n-tools qt6-tools-dev
    libhiredis-dev redis-server
    nlohmann-json3-dev # scripts/fuzz.sh: the oracle of fuzz_json_body (tests/fuzz)
    fonts-dejavu-core xvfb xauth
    desktop-file-utils appstream man-db dpkg-dev file
    clang libclang-rt-14-dev # scripts/fuzz.sh: libFuzzer (only recommended by clang, so named here)
    nodejs # tests/api: validates docs/openapi.yaml (an npm package)
)
# npm comes with Debian's nodejs as its own package; a nodejs from elsewhere (NodeSource) bundles
# npm and conflicts with Debian's, so ask for the package only when there is no npm.
if ! command -v npm >/dev/null; then
    packages+=(npm)
fi
# `scripts/deps.sh --bench`: also what tests/bench/run needs (not CI): the benchmark peer's
# packages (tests/bench/peer) and gnuplot, which draws the charts of docs/benchmarks.md.
if [ "${1:-}" = "--bench" ]; then
    packages+=(python3-fastapi python3-uvicorn python3-httpx gnuplot-nox)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    # The downloaded packages (about 1 GB) are not needed once installed.
    $sudo apt-get clean
fi
