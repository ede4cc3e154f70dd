#!/bin/sh
# cmake --install into a temporary DESTDIR, then: the files are where the desktop expects them,
# the desktop file and the metainfo pass Debian's validators, the man page renders without warnings
# and documents every option of --help, the user unit verifies, the installed binary runs.
# usage: check_install.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
. "$(dirname "$0")/lib.sh"
need desktop-file-validate "apt-get install desktop-file-utils"
need appstreamcli "apt-get install appstream"
need man "apt-get install man-db"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
if ! DESTDIR="$root" cmake --install "$build" --prefix /usr >"$root.log" 2>&1; then
    cat "$root.log" >&2
    rm -f "$root.log"
    echo "FAIL: cmake --install" >&2
    exit 1
fi
rm -f "$root.log"
usr="$root/usr"

for f in bin/holdfast share/applications/holdfast.desktop \
         share/metainfo/io.github.holdfast.Holdfast.metainfo.xml \
         share/icons/hicolor/scalable/apps/holdfast.svg share/man/man1/holdfast.1.gz \
         lib/systemd/user/holdfast-headless.service; do
    [ -f "$usr/$f" ] && pass "installed /usr/$f" || fail "missing /usr/$f"
done
for size in 16 24 32 48 64 128 256 512; do
    f=share/icons/hicolor/${size}x${size}/apps/holdfast.png
    [ -f "$usr/$f" ] || fail "missing /usr/$f"
done
[ -x "$usr/bin/holdfast" ] || fail "/usr/bin/holdfast is not executable"

# Desktop entry and AppStream metadata.
if out=$(desktop-file-validate "$usr/share/applications/holdfast.desktop" 2>&1) && [ -z "$out" ]; then
    pass "desktop-file-validate"
else
    fail "desktop-file-validate: $out"
fi
grep -q '^Icon=holdfast$' "$usr/share/applications/holdfast.desktop" || fail "the desktop file's Icon is not holdfast"
if out=$(appstreamcli validate --no-net "$usr/share/metainfo/io.github.holdfast.Holdfast.metainfo.xml" 2>&1); then
    pass "appstreamcli validate --no-net"
else
    fail "appstreamcli validate: $out"
fi
grep -q '@PROJECT_VERSION@' "$usr/share/metainfo/io.github.holdfast.Holdfast.metainfo.xml" && fail "metainfo: version not substituted"

# Man page: renders without a groff warning, and names every option --help lists.
man1="$usr/share/man/man1/holdfast.1.gz"
warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$man1" 2>&1 >/dev/null)
[ -z "$warnings" ] && pass "man -l renders without warnings" || fail "man -l warnings: $warnings"
rendered=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$man1" 2>/dev/null)
case "$rendered" in *"HOLDFAST(1)"*EXIT\ STATUS*) pass "man page rendered" ;; *) fail "man page did not render" ;; esac
source_text=$(gzip -dc "$man1" | sed 's/\\-/-/g')
options=$("$usr/bin/holdfast" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
[ -n "$options" ] || fail "holdfast --help lists no options"
for o in $options; do
    printf '%s\n' "$source_text" | grep -q -- "$o" || fail "the man page does not document $o"
done
pass "the man page documents the $(echo "$options" | wc -l) options of --help"

# systemd user unit: names the installed binary and verifies.
unit="$usr/lib/systemd/user/holdfast-headless.service"
grep -q '^ExecStart=/usr/bin/holdfast --headless$' "$unit" || fail "ExecStart is not /usr/bin/holdfast --headless: $(grep ExecStart= "$unit")"
if command -v systemd-analyze >/dev/null 2>&1; then
    sed "s|/usr/bin/holdfast|$usr/bin/holdfast|" "$unit" >"$root/holdfast-headless.service"
    if out=$(systemd-analyze verify --man=no "$root/holdfast-headless.service" 2>&1); then
        pass "systemd-analyze verify"
    else
        fail "systemd-analyze verify: $out"
    fi
fi

# The installed binary.
v=$("$usr/bin/holdfast" --version) && case "$v" in "holdfast "*) pass "--version: $(echo "$v" | head -n 1)" ;; *) fail "--version printed '$v'" ;; esac
"$usr/bin/holdfast" --help | grep -q '^Usage: holdfast' && pass "--help" || fail "--help has no Usage line"
"$usr/bin/holdfast" --no-such-option >/dev/null 2>&1
[ $? -eq 2 ] && pass "bad usage exits 2" || fail "bad usage does not exit 2"
healthz "$usr/bin/holdfast"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "all install checks passed"
