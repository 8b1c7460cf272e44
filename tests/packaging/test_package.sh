#!/bin/sh
# Packaging test: tests/packaging/test_package.sh BUILD_DIR VERSION
#   1. cpack -G DEB and -G TGZ in BUILD_DIR (the project must be built already);
#   2. unpacks the .deb with dpkg-deb -x into a temporary root and checks its files;
#   3. runs v4 --version, v4chat --version and v4chat --selftest (offscreen) from that root, with
#      HOME and the XDG folders in the temporary folder so the user's data is never touched;
#   4. validates the desktop entry and AppStream file when the validators are installed;
#   5. runs lintian --fail-on error on the .deb when lintian is installed.
# Stops with a message at the first problem. Needs: cmake (cpack), dpkg-deb, dpkg-shlibdeps
# (dpkg-dev), gzip, tar; optional: lintian, desktop-file-utils, appstream.
set -eu

build_dir=${1:?usage: test_package.sh BUILD_DIR VERSION}
version=${2:?usage: test_package.sh BUILD_DIR VERSION}
app_id=io.github.v4chat.V4Chat

fail() {
    echo "test_package: FAIL: $*" >&2
    exit 1
}
step() {
    echo "test_package: $*"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/v4-test-package.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# --- 1. build the packages -------------------------------------------------------------------
cd "$build_dir" || fail "no build folder $build_dir"
[ -f CPackConfig.cmake ] || fail "$build_dir has no CPackConfig.cmake (is V4_BUILD_APP on?)"
rm -rf packages
for generator in DEB TGZ; do
    step "cpack -G $generator"
    cpack -G "$generator" -B "$build_dir/packages" >"$work/cpack-$generator.log" 2>&1 || {
        cat "$work/cpack-$generator.log" >&2
        fail "cpack -G $generator failed (log above)"
    }
done

arch=$(dpkg --print-architecture)
deb="$build_dir/packages/v4chat_${version}_${arch}.deb"
[ -f "$deb" ] || fail "cpack made no $deb; made: $(ls "$build_dir/packages")"
tgz=$(ls "$build_dir"/packages/v4chat-"$version"-*.tar.gz 2>/dev/null | head -n 1)
[ -n "$tgz" ] || fail "cpack made no v4chat-$version-*.tar.gz; made: $(ls "$build_dir/packages")"
step "built $(basename "$deb") and $(basename "$tgz")"

# --- 2. unpack the .deb and check its contents -----------------------------------------------
root="$work/root"
dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x $deb failed"
dpkg-deb -f "$deb" Package Version Depends >"$work/control" || fail "dpkg-deb -f $deb failed"
grep -qx "Package: v4chat" "$work/control" || fail "control: Package is not v4chat"
grep -qx "Version: $version" "$work/control" || fail "control: Version is not $version"
grep -q "^Depends:.*libqt6widgets6" "$work/control" ||
    fail "control: Depends lacks libqt6widgets6 (did dpkg-shlibdeps run?): $(grep Depends "$work/control")"

for file in \
    usr/bin/v4 \
    usr/bin/v4chat \
    "usr/share/applications/$app_id.desktop" \
    "usr/share/metainfo/$app_id.metainfo.xml" \
    "usr/share/icons/hicolor/scalable/apps/$app_id.svg" \
    usr/share/man/man1/v4.1.gz \
    usr/share/man/man1/v4chat.1.gz \
    usr/share/doc/v4chat/copyright \
    usr/share/doc/v4chat/changelog.gz; do
    [ -f "$root/$file" ] || fail "the .deb lacks /$file"
done
for size in 16 24 32 48 64 128 256 512; do
    icon="usr/share/icons/hicolor/${size}x${size}/apps/$app_id.png"
    [ -f "$root/$icon" ] || fail "the .deb lacks /$icon"
done
for exe in v4 v4chat; do
    [ -x "$root/usr/bin/$exe" ] || fail "/usr/bin/$exe is not executable"
done
gzip -t "$root/usr/share/man/man1/v4.1.gz" || fail "v4.1.gz is not a valid gzip file"
grep -q "release version=\"$version\"" "$root/usr/share/metainfo/$app_id.metainfo.xml" ||
    fail "the AppStream file has no release $version"

# The tarball must hold the same files as the .deb.
mkdir -p "$work/tgz"
tar -xzf "$tgz" -C "$work/tgz" || fail "tar -xzf $tgz failed"
for file in bin/v4 bin/v4chat "share/applications/$app_id.desktop"; do
    ls "$work"/tgz/*/usr/"$file" >/dev/null 2>&1 || fail "the .tar.gz lacks usr/$file"
done
step "unpacked: the .deb and the .tar.gz hold the binaries, desktop entry, AppStream file, icons, man pages"

# --- 3. run the installed binaries -----------------------------------------------------------
home="$work/home"
mkdir -p "$home/.config" "$home/.local/share" "$home/.cache" "$work/runtime"
chmod 0700 "$work/runtime"
run_isolated() {
    env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
        XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$work/runtime" V4_DATA_DIR= V4_MODELS_DIR= \
        "$@"
}

out=$(run_isolated "$root/usr/bin/v4" --version 2>&1) || fail "v4 --version failed: $out"
[ "$out" = "v4 $version" ] || fail "v4 --version printed '$out', expected 'v4 $version'"
out=$(run_isolated "$root/usr/bin/v4chat" --version 2>&1) || fail "v4chat --version failed: $out"
[ "$out" = "v4chat $version" ] || fail "v4chat --version printed '$out', expected 'v4chat $version'"
step "v4 --version and v4chat --version print $version"

if ! run_isolated QT_QPA_PLATFORM=offscreen "$root/usr/bin/v4chat" --selftest >"$work/selftest.log" 2>&1; then
    cat "$work/selftest.log" >&2
    fail "QT_QPA_PLATFORM=offscreen v4chat --selftest failed (output above)"
fi
step "v4chat --selftest passed (offscreen)"

# --- 4. validate desktop entry and AppStream file --------------------------------------------
if command -v desktop-file-validate >/dev/null 2>&1; then
    desktop-file-validate "$root/usr/share/applications/$app_id.desktop" || fail "desktop-file-validate failed"
    step "desktop-file-validate: ok"
else
    step "SKIP desktop-file-validate (apt-get install desktop-file-utils)"
fi
if command -v appstreamcli >/dev/null 2>&1; then
    appstreamcli validate --no-net "$root/usr/share/metainfo/$app_id.metainfo.xml" >"$work/appstream.log" 2>&1 || {
        cat "$work/appstream.log" >&2
        fail "appstreamcli validate failed (output above)"
    }
    step "appstreamcli validate: ok"
else
    step "SKIP appstreamcli validate (apt-get install appstream)"
fi

# --- 5. lintian ------------------------------------------------------------------------------
if command -v lintian >/dev/null 2>&1; then
    if ! lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1; then
        cat "$work/lintian.log" >&2
        fail "lintian reports errors on $(basename "$deb") (output above)"
    fi
    # As root (containers) lintian adds a line about it; it says nothing about the package.
    grep -v "running with root privileges" "$work/lintian.log" >"$work/lintian-tags.log" || true
    if [ -s "$work/lintian-tags.log" ]; then
        step "lintian: no errors; other tags:"
        sed 's/^/    /' "$work/lintian-tags.log"
    else
        step "lintian: clean"
    fi
else
    step "SKIP lintian (apt-get install lintian)"
fi

step "PASS"
