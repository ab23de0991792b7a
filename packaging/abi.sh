#!/usr/bin/env bash
# packaging/abi.sh — the ABI guard: the public ABI of the built libselectors, as a C program
# linked against it sees it, against the committed baseline of its soname.
#
# Usage: packaging/abi.sh check      fails, with abidiff's report, when the build is not
#                                    backward compatible with the baseline (additions are fine)
#        packaging/abi.sh baseline   rewrites the baseline from the build (see README, "ABI")
#
# What is compared: every function of the header with its parameter and return types, the
# layout of every struct they reach (sel_key, sel_event; sel_selector stays opaque), the ELF
# symbols, and the value of every SEL_* constant. libabigail reads types from DWARF, but the
# library's DWARF describes Rust types (SelKey, the selector's private fields, std's internals),
# so abidw cannot keep "only what the header declares" with --headers-dir. The C view is built
# instead: a throw-away shared object whose functions are the header's prototypes, compiled with
# -g from the header this build generated, so its DWARF holds exactly the public C types. It
# stands for the library only once its exported functions are checked equal to those of the
# built libselectors.so.
set -euo pipefail
export LC_ALL=C # one collation for sort and join
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
    check | baseline) ;;
    *) sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
tools/require "make abi-$mode" abigail-tools binutils gcc

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml)
soname=libselectors.so.${version%%.*}
baseline=packaging/abi/$soname.abi
constants=packaging/abi/$soname.constants
library=${CARGO_TARGET_DIR:-target}/release/libselectors.so

# The folder holding the header this build generated (build.rs writes it to OUT_DIR), which
# is what the library is: include/selectors.h may be stale until it is blessed.
out_dir=$(cargo build --release --quiet --message-format=json |
    sed -n 's|.*"package_id":"[^"]*#selectors@[^"]*".*"out_dir":"\([^"]*\)".*|\1|p')
header_dir=$out_dir/include
[ -f "$header_dir/selectors.h" ] || { echo "abi: no generated header in '$out_dir'" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The C view: each one-line prototype (cbindgen writes them so) becomes a definition.
{
    echo '#include <selectors.h>'
    sed -n 's/^\([^ *\/#].*[ *]sel_[a-z_]*(.*)\);$/\1 { __builtin_trap(); }/p' \
        "$header_dir/selectors.h"
} >"$work/c_view.c"
cc -std=c99 -g -O0 -shared -fPIC -I"$header_dir" -Wl,-soname,"$soname" \
    -o "$work/$soname" "$work/c_view.c"

exported() { nm -D --defined-only "$1" | awk '{print $3}' | sort; }
if ! diff <(exported "$library") <(exported "$work/$soname") >"$work/exports.diff"; then
    echo "abi: the functions libselectors.so exports (<) and its header declares (>) differ:" >&2
    cat "$work/exports.diff" >&2
    exit 1
fi

abidw --no-corpus-path --no-comp-dir-path --no-show-locs --headers-dir "$header_dir" \
    "$work/$soname" >"$work/current.abi"
# The constants a compiled program carries: every SEL_ macro with a literal value, except the
# version, which changes with every release.
sed -n 's/^#define \(SEL_[A-Z_]*\) \(-\{0,1\}[0-9][0-9xXa-fA-F]*\)$/\1 \2/p' \
    "$header_dir/selectors.h" | grep -v '^SEL_VERSION_' | sort >"$work/current.constants"

if [ "$mode" = baseline ]; then
    mkdir -p packaging/abi
    cp "$work/current.abi" "$baseline"
    cp "$work/current.constants" "$constants"
    echo "abi: wrote $baseline and $constants from $library $version"
    exit 0
fi

[ -f "$baseline" ] || {
    echo "abi: no baseline $baseline for soname $soname: run make abi-baseline" >&2
    exit 1
}
failed=0
# --no-added-syms: functions added since the baseline are compatible and not reported. abidiff's
# status is a bit set (1 error, 4 change, 8 incompatible change); any of them fails.
if ! abidiff --no-added-syms "$baseline" "$work/current.abi" >"$work/report"; then
    echo "abi: $library ($version) is not backward compatible with $baseline:" >&2
    cat "$work/report" >&2
    failed=1
fi
changed=$(join -a1 -o 1.1,1.2,2.2 -e removed "$constants" "$work/current.constants" |
    awk '$2 != $3 {printf "  %s was %s, now %s\n", $1, $2, $3}')
if [ -n "$changed" ]; then
    echo "abi: constants of $constants changed (programs compiled with the old values break):" >&2
    echo "$changed" >&2
    failed=1
fi
if ((failed)); then
    echo "abi: an intended break changes the soname: bump the major version in Cargo.toml," \
        "then make abi-baseline (README, \"ABI\")" >&2
    exit 1
fi
# The same comparison with additions reported (abidiff's status says "changed": not a failure).
abidiff "$baseline" "$work/current.abi" >"$work/with-additions" || true
added=$(sed -n "s/^  \[A\] 'function \([^']*\)'.*/\1/p" "$work/with-additions" | paste -sd';')
echo "abi: compatible with $baseline${added:+; added since: $added}"
