#!/usr/bin/env bash
# make package-test: installs libselectors into a temporary prefix and uses it the way a C
# user would, never the build tree: C and C++ programs built with pkg-config (one of them on the
# C++17 wrapper selectors.hpp), CMake projects with find_package (shared and static) and with
# pkg_check_modules, a static link, examples/ with its plain Makefile. Each program runs
# with the prefix's lib/ as its only source of libselectors (checked with ldd). Then a DESTDIR
# (staged) install, and uninstall, which must leave nothing of ours behind.
set -euo pipefail
cd "$(dirname "$0")/.."

MAKE=${MAKE:-make}
CC=${CC:-cc}
CXX=${CXX:-c++}
STRICT=(-Wall -Wextra -Werror -pedantic)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
bin=$work/bin
mkdir -p "$bin" "$prefix/lib"

step() { printf '\n== %s\n' "$*"; }
die() { printf 'package-test: %s\n' "$*" >&2; exit 1; }

# Checks that the loader resolves a program's libselectors to the prefix's copy: never to the
# build tree or a system copy.
check_loads_installed() {
    local program=$1 resolved
    resolved=$(LD_LIBRARY_PATH=$prefix/lib ldd "$program" | awk '/libselectors/ {print $3}')
    [ "$resolved" = "$prefix/lib/$soname" ] ||
        die "$program loads libselectors from '$resolved', not from $prefix/lib"
    echo "$(basename "$program"): libselectors from $resolved"
}

run_installed() {
    check_loads_installed "$1"
    LD_LIBRARY_PATH=$prefix/lib "$1"
}

step "make install PREFIX=$prefix"
echo "not ours" > "$prefix/lib/libother.so"  # uninstall must leave it alone
"$MAKE" -s install PREFIX="$prefix"
(cd "$prefix" && find . ! -type d | sort)

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
version=$(pkg-config --modversion selectors)
soname=libselectors.so.${version%%.*}
[ -f "$prefix/lib/libselectors.so.$version" ] || die "no lib/libselectors.so.$version"
[ "$(readlink "$prefix/lib/$soname")" = "libselectors.so.$version" ] || die "bad $soname link"
[ "$(readlink "$prefix/lib/libselectors.so")" = "$soname" ] || die "bad libselectors.so link"
readelf -d "$prefix/lib/libselectors.so.$version" | grep -F "Library soname: [$soname]" ||
    die "the installed library's soname is not $soname"

step "the installed library's size: at most 400 KB, 200 KB with LEAN_STD=yes"
size=$(stat -c %s "$prefix/lib/libselectors.so.$version")
limit=400000
[ "${LEAN_STD:-no}" = yes ] && limit=200000
((size <= limit)) || die "lib/libselectors.so.$version has $size bytes, more than $limit"
echo "lib/libselectors.so.$version: $size bytes (LEAN_STD=${LEAN_STD:-no}, limit $limit)"

step "the installed library is stripped; make install-debug adds the file its debuglink names"
if readelf -S "$prefix/lib/libselectors.so.$version" | grep -q '\.debug_\|\.symtab'; then
    die "the installed libselectors.so.$version keeps debug info or a symbol table"
fi
debug_file=$(readelf --string-dump=.gnu_debuglink "$prefix/lib/libselectors.so.$version" |
    awk '/\]/ {print $3; exit}')
[ "$debug_file" = "libselectors.so.$version.debug" ] || die "debuglink names '$debug_file'"
"$MAKE" -s install-debug PREFIX="$prefix"
readelf -S "$prefix/lib/.debug/$debug_file" | grep -q '\.debug_line' ||
    die "lib/.debug/$debug_file has no debug info"
(cd "$prefix/lib" && ls -l "libselectors.so.$version" libselectors.a ".debug/$debug_file")

step "every function of the installed header has its man page"
functions=$(sed -n 's/^[^ *\/#].*[ *]\(sel_[a-z_]*\)(.*/\1/p' "$prefix/include/selectors.h")
for function in selectors $functions; do
    [ -f "$prefix/share/man/man3/$function.3" ] || die "no man page $function(3)"
done
echo "selectors(3)" $functions

step "C, with cc \$(pkg-config --cflags --libs selectors)"
# shellcheck disable=SC2046 # pkg-config's output is meant to be split into words
"$CC" -std=c99 "${STRICT[@]}" packaging/outside.c $(pkg-config --cflags --libs selectors) \
    -o "$bin/outside"
run_installed "$bin/outside"

step "C++, with c++ \$(pkg-config --cflags --libs selectors)"
# shellcheck disable=SC2046
"$CXX" -std=c++11 "${STRICT[@]}" packaging/outside.cpp $(pkg-config --cflags --libs selectors) \
    -o "$bin/outside_cxx"
run_installed "$bin/outside_cxx"

step "C++17 on the installed selectors.hpp, with c++ \$(pkg-config --cflags --libs selectors)"
# shellcheck disable=SC2046
"$CXX" -std=c++17 "${STRICT[@]}" -Wconversion -Wsign-conversion -Wold-style-cast -Wshadow \
    packaging/outside_wrapper.cpp $(pkg-config --cflags --libs selectors) -o "$bin/outside_wrapper"
run_installed "$bin/outside_wrapper"

step "CMake, pkg_check_modules(SELECTORS REQUIRED IMPORTED_TARGET selectors)"
cmake -S packaging/cmake -B "$work/cmake" -DCMAKE_C_COMPILER="$CC" >/dev/null
cmake --build "$work/cmake" >/dev/null
run_installed "$work/cmake/outside"

step "CMake, find_package(selectors 0.1 REQUIRED): selectors::selectors and ::selectors_static"
cmake -S packaging/find-package -B "$work/find-package" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$CC" >/dev/null
cmake --build "$work/find-package" >/dev/null
run_installed "$work/find-package/outside"
if readelf -d "$work/find-package/outside_static" | grep -q 'NEEDED.*libselectors'; then
    die "outside_static (selectors::selectors_static) needs libselectors.so"
fi
env -u LD_LIBRARY_PATH "$work/find-package/outside_static"

step "CMake, find_package(selectors 1.0) is refused: the installed 0.x is another soname"
mkdir -p "$work/wants-1.0"
printf '%s\n' 'cmake_minimum_required(VERSION 3.13)' 'project(wants C)' \
    'find_package(selectors 1.0 REQUIRED)' >"$work/wants-1.0/CMakeLists.txt"
if cmake -S "$work/wants-1.0" -B "$work/wants-1.0/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$work/wants-1.0.log" 2>&1; then
    die "find_package(selectors 1.0) accepted version $version"
fi
grep -B1 -A1 'compatible with requested version "1.0"' "$work/wants-1.0.log"

step "static, with cc -static \$(pkg-config --static --cflags --libs selectors)"
# A fully static program proves Libs.private complete. glibc's linker notes about getpwuid_r
# and getaddrinfo come from Rust's standard library, which libselectors never calls them from.
# shellcheck disable=SC2046
"$CC" -static -std=c99 "${STRICT[@]}" packaging/outside.c \
    $(pkg-config --static --cflags --libs selectors) -o "$bin/outside_static"
if readelf -d "$bin/outside_static" | grep -q 'NEEDED'; then
    die "outside_static needs shared libraries"
fi
env -u LD_LIBRARY_PATH "$bin/outside_static"

step "examples/, with its plain Makefile, copied out of the tree"
cp -r examples "$work/examples"
"$MAKE" -s -C "$work/examples" CC="$CC"
for example in "$work"/examples/*.c; do
    check_loads_installed "${example%.c}"
done
for example in "$work"/examples/*.cpp; do
    check_loads_installed "${example%.cpp}_cxx"
done

step "make uninstall PREFIX=$prefix"
"$MAKE" -s uninstall PREFIX="$prefix"
left=$(cd "$prefix" && find . ! -type d | sort)
[ "$left" = "./lib/libother.so" ] || die "uninstall left or removed files: $left"
echo "left: $left"

step "make install DESTDIR=$work/stage PREFIX=/usr, then uninstall"
"$MAKE" -s install DESTDIR="$work/stage" PREFIX=/usr
grep -qx 'prefix=/usr' "$work/stage/usr/lib/pkgconfig/selectors.pc" || die "staged .pc is wrong"
[ -f "$work/stage/usr/lib/libselectors.so.$version" ] || die "DESTDIR install is incomplete"
"$MAKE" -s uninstall DESTDIR="$work/stage" PREFIX=/usr
[ -z "$(find "$work/stage" ! -type d)" ] || die "DESTDIR uninstall left files"
echo "staged and removed"

step "package-test passed"
