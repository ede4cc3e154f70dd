#!/bin/sh
# CPack builds the .deb; its Depends are Debian runtime packages (no -dev) covering every shared
# library the binary needs; it holds the binary and the desktop files; the binary unpacked from it
# runs and answers /healthz. With HOLDFAST_TEST_DPKG_INSTALL=1 (as root): dpkg -i, then the
# installed /usr/bin/holdfast answers /healthz, then dpkg -r.
# usage: check_deb.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
. "$(dirname "$0")/lib.sh"
need cpack "cmake"
need dpkg-deb "dpkg"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work") >"$work/cpack.log" 2>&1; then
    cat "$work/cpack.log" >&2
    echo "FAIL: cpack -G DEB" >&2
    exit 1
fi
deb=$(ls "$work"/holdfast_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { cat "$work/cpack.log" >&2; echo "FAIL: cpack made no holdfast_*.deb" >&2; exit 1; }
pass "cpack built $(basename "$deb")"

contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/holdfast ./usr/share/applications/holdfast.desktop \
         ./usr/share/metainfo/io.github.holdfast.Holdfast.metainfo.xml \
         ./usr/share/icons/hicolor/scalable/apps/holdfast.svg ./usr/share/man/man1/holdfast.1.gz \
         ./usr/lib/systemd/user/holdfast-headless.service; do
    printf '%s\n' "$contents" | grep -q -- " $f\$" && pass "the .deb holds $f" || fail "the .deb lacks $f"
done

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
printf '%s' "$depends" | grep -q -- '-dev' && fail "Depends names a -dev package"
printf '%s' "$depends" | grep -q 'libsqlite3-0' || fail "Depends lacks libsqlite3-0 (the SQLite store)"
# Every library the binary links must come from a package the .deb depends on.
dpkg-deb -x "$deb" "$work/root"
bin="$work/root/usr/bin/holdfast"
if command -v objdump >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
    for lib in $(objdump -p "$bin" | awk '/NEEDED/ {print $2}'); do
        # Several packages may ship a file of that name (libc6 and libc6-i386 both have libm.so.6):
        # one of them in Depends is enough.
        owners=$(dpkg -S "*/$lib" 2>/dev/null | cut -d: -f1 | tr ', ' '\n\n' | sed '/^$/d' | sort -u)
        [ -n "$owners" ] || { fail "no package owns $lib"; continue; }
        found=""
        for owner in $owners; do
            printf '%s\n' "$depends" | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' | grep -qxF "$owner" && found=$owner
        done
        [ -n "$found" ] && pass "$lib: $found is in Depends" ||
            fail "$lib comes from $(echo $owners), none of which Depends names"
    done
fi
"$bin" --version >/dev/null && pass "unpacked binary runs --version" || fail "unpacked binary --version"
healthz "$bin"

if [ "${HOLDFAST_TEST_DPKG_INSTALL:-0}" = 1 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        fail "HOLDFAST_TEST_DPKG_INSTALL=1 needs root"
    elif dpkg -i "$deb" >"$work/dpkg.log" 2>&1; then
        pass "dpkg -i $(basename "$deb")"
        healthz /usr/bin/holdfast
        dpkg -r holdfast >/dev/null 2>&1 || fail "dpkg -r holdfast"
    else
        cat "$work/dpkg.log" >&2
        fail "dpkg -i"
    fi
else
    echo "note: dpkg -i not tried (set HOLDFAST_TEST_DPKG_INSTALL=1, as root, to try it)"
fi

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "all .deb checks passed"
