#!/usr/bin/env bash
# make deb-test: builds the Debian packages from a clean copy of HEAD (git archive into a
# temporary folder: the work tree is never touched), holds them to lintian, installs them into
# this machine with dpkg, builds and runs programs from outside the tree against the installed
# packages (plain cc with pkg-config, CMake with find_package, shared and static), and purges
# them again.
#
# Installs what it lacks through tools/require. Cargo's output goes to target/deb (under
# CARGO_TARGET_DIR when set), kept between runs, so only the first run compiles the crates (the
# sources are still HEAD's).
# Refuses to run when libselectors0 or libselectors-dev is already installed: it removes what
# it installed, and never a copy it did not install.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")/deb

# dpkg-dev and debhelper build, lintian checks; cargo-web and rustc-web are Debian 12's Rust
# 1.96 (its cargo is 0.66, older than Cargo.toml's rust-version); cmake and pkg-config for the
# outside programs.
tools/require "make deb-test" dpkg-dev debhelper lintian cargo-web rustc-web binutils gcc \
    pkg-config cmake

packages=(libselectors0 libselectors-dev)
step() { printf '\n== %s\n' "$*"; }
die() { printf 'deb-test: %s\n' "$*" >&2; exit 1; }
is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

refuse_installed() {
    for package in "${packages[@]}"; do
        if is_installed "$package"; then
            die "$package is already installed here (not by deb-test):" \
                "remove it first (dpkg --purge ${packages[*]})"
        fi
    done
}
refuse_installed

work=$(mktemp -d)
installed=no
# One deb-test at a time installs into this machine.
exec 9>/var/lock/libselectors-deb-test
cleanup() {
    if [ "$installed" = yes ]; then
        dpkg --purge "${packages[@]}" >/dev/null ||
            echo "deb-test: could not purge ${packages[*]}" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT

step "a clean copy of HEAD ($(git rev-parse --short HEAD))"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
    echo "deb-test: the packages are built from HEAD, without the work tree's uncommitted changes"
mkdir "$work/libselectors"
git archive --format=tar HEAD | tar -x -C "$work/libselectors"

step "dpkg-buildpackage -us -uc -b"
mkdir -p "$cargo_dir"
(cd "$work/libselectors" && CARGO_TARGET_DIR="$cargo_dir" DEB_BUILD_OPTIONS=nocheck \
    dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
    tail -40 "$work/build.log"
    die "dpkg-buildpackage failed (the last lines of its log are above)"
}
version=$(dpkg-parsechangelog -l "$work/libselectors/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
changes=$work/libselectors_${version}_$arch.changes
debs=()
for package in "${packages[@]}"; do
    deb=$work/${package}_${version}_$arch.deb
    [ -f "$deb" ] || die "no $deb"
    debs+=("$deb")
    echo "$package: $(stat -c %s "$deb") bytes"
    dpkg-deb -c "$deb" | awk '$6 !~ /\/$/ {print "  " $6, $7, $8}'
done

step "lintian (errors and warnings fail; each remaining tag is explained in debian/)"
lintian_status=0
lintian --fail-on error,warning --display-info --show-overrides "$changes" >"$work/lintian.log" \
    2>&1 || lintian_status=$?
grep -v '^running with root privileges' "$work/lintian.log" || echo "(no tags)"
((lintian_status == 0)) || die "lintian found errors or warnings"

step "dpkg -i ${packages[*]}"
flock 9
refuse_installed
installed=yes
dpkg -i "${debs[@]}" >/dev/null
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
resolved=$(ldconfig -p | awk '/libselectors.so.0 / {print $NF}')
# (/lib is /usr/lib on a merged-/usr system, and ldconfig may name either)
[ -n "$resolved" ] &&
    [ "$(readlink -f "$resolved")" = "$(readlink -f "/usr/lib/$multiarch/libselectors.so.0")" ] ||
    die "the loader finds libselectors.so.0 at '$resolved', not in /usr/lib/$multiarch"
echo "ldconfig: libselectors.so.0 => $resolved"

step "an outside C program: cc outside.c \$(pkg-config --cflags --libs selectors)"
cp packaging/outside.c "$work/outside.c"
# shellcheck disable=SC2046 # pkg-config's output is meant to be split into words
cc -std=c99 -Wall -Wextra -Werror -pedantic "$work/outside.c" \
    $(pkg-config --cflags --libs selectors) -o "$work/outside"
env -u LD_LIBRARY_PATH ldd "$work/outside" | grep libselectors
env -u LD_LIBRARY_PATH "$work/outside"

step "CMake: find_package(selectors 0.1 REQUIRED), selectors::selectors and ::selectors_static"
cp -r packaging/find-package "$work/find-package"
cmake -S "$work/find-package" -B "$work/find-package/build" >/dev/null
cmake --build "$work/find-package/build" >/dev/null
env -u LD_LIBRARY_PATH "$work/find-package/build/outside"
env -u LD_LIBRARY_PATH "$work/find-package/build/outside_static"

step "dpkg --purge ${packages[*]}"
dpkg --purge "${packages[@]}" >/dev/null
installed=no
if ldconfig -p | grep -q libselectors; then
    die "libselectors is still known to the loader after the purge"
fi
[ ! -e /usr/include/selectors.h ] || die "/usr/include/selectors.h is left after the purge"
echo "purged"

step "deb-test passed"
