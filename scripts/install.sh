#!/usr/bin/env bash
# Installs Holdfast on Debian 12 and starts it with the offline demo model: nothing to set up.
#   scripts/install.sh            build, install to /usr/local, run
#   PREFIX=$HOME/.local scripts/install.sh
#   HOLDFAST_NO_RUN=1 scripts/install.sh   install only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
prefix="${PREFIX:-/usr/local}"
sudo=""
if [ "$(id -u)" -ne 0 ] && [ ! -w "$prefix" ]; then sudo="sudo"; fi
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOLDFAST_BUILD_TESTS=OFF \
    -DCMAKE_INSTALL_PREFIX="$prefix"
cmake --build build/release -j "$(nproc)"
$sudo cmake --install build/release
echo "installed $("$prefix/bin/holdfast" --version) to $prefix"
[ -n "${HOLDFAST_NO_RUN:-}" ] && exit 0
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    exec "$prefix/bin/holdfast"
fi
echo "no display: starting the headless service instead (Ctrl+C stops it)"
exec "$prefix/bin/holdfast" --headless --listen 127.0.0.1:8080
