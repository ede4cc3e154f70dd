#!/bin/sh
# Builds Holdfast from this checkout and installs it, on Debian 12 (bookworm) or a derivative.
#
#   scripts/install.sh                 build the .deb and install it with apt (menu entry, man page,
#                                      systemd user unit, runtime dependencies)
#   scripts/install.sh --prefix DIR    cmake --install into DIR instead (e.g. ~/.local), no package
#   scripts/install.sh --deb-only      build the .deb into build-release/ and stop
#   scripts/install.sh --no-deps       skip apt-get (the build packages are already installed)
#   scripts/install.sh --no-run        install only; do not start Holdfast afterwards
#
# Afterwards it starts Holdfast with the offline demo model: the window when there is a display,
# otherwise the headless service on http://127.0.0.1:8080 (Ctrl+C stops it). Later: `holdfast`,
# `holdfast --headless`, or for the service under systemd:
#   systemctl --user enable --now holdfast-headless
set -eu

mode=deb
prefix=
deps=1
run=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) mode=prefix; prefix=${2:?--prefix needs a folder}; shift ;;
        --deb-only) mode=deb-only ;;
        --no-deps) deps=0 ;;
        --no-run) run=0 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

cd "$(dirname "$0")/.."
build=build-release
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

# scripts/deps.sh holds the one list of packages (the .deb itself depends on runtime packages only).
if [ "$deps" -eq 1 ]; then
    scripts/deps.sh
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOLDFAST_BUILD_TESTS=OFF
cmake --build "$build"

case "$mode" in
    prefix)
        cmake --install "$build" --prefix "$prefix"
        echo "installed into $prefix: run $prefix/bin/holdfast --version"
        ;;
    deb|deb-only)
        (cd "$build" && cpack -G DEB)
        deb=$(ls "$build"/holdfast_*.deb | head -n 1)
        echo "built $deb"
        if [ "$mode" = deb ]; then
            # apt (not dpkg -i) so that the runtime dependencies come along.
            $sudo apt-get install -y "./$deb"
            holdfast --version
        fi
        ;;
esac

[ "$mode" != deb-only ] && [ "$run" -eq 1 ] || exit 0
bin=holdfast
[ "$mode" = prefix ] && bin="$prefix/bin/holdfast"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    exec "$bin"
fi
echo "no display: starting the headless service with the demo model (Ctrl+C stops it)"
exec "$bin" --headless --listen 127.0.0.1:8080
