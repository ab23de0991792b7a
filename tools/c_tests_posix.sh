#!/bin/sh
# The C tests as macOS and the BSDs would build them, checked on Linux: every c_tests/*.c and
# c_tests/support/*.c compiled with POSIX headers alone (-D_POSIX_C_SOURCE=200809L, no
# _GNU_SOURCE) and the Linux-only parts turned off (SELECTORS_TEST_POSIX_ONLY, see
# c_tests/support/platform.h), under the strict flags of build.rs; then a check for the
# interfaces glibc declares even so but macOS lacks; then the programs linked against
# LIBDIR/libselectors.so and run case by case with tools/run_c_cases.sh, where each Linux-only
# case reports itself skipped, never passed. FLAG... are added to the compiler's flags:
# -DSEL_TEST_LIBKQUEUE for a LIBDIR built with libkqueue, so PER_KIND cases run on KQUEUE too.
#
#   tools/c_tests_posix.sh OUT_DIR LIBDIR [FLAG...]
set -eu
out=${1:?usage: tools/c_tests_posix.sh OUT_DIR LIBDIR [FLAG...]}
libdir=${2:?usage: tools/c_tests_posix.sh OUT_DIR LIBDIR [FLAG...]}
shift 2
cc=${CC:-cc}
flags="-std=c99 -D_POSIX_C_SOURCE=200809L -DSELECTORS_TEST_POSIX_ONLY
       -Wall -Wextra -Werror -pedantic -Wshadow -Iinclude -Ic_tests/support $*"
# In POSIX.1-2024 or glibc's headers whatever the feature macros say, not on macOS.
not_on_macos='pipe2|accept4|SOCK_NONBLOCK|SOCK_CLOEXEC|dup3|ppoll|syscall'

mkdir -p "$out"
status=0
for source in c_tests/support/*.c c_tests/*.c; do
    # shellcheck disable=SC2086 # $flags is a list of words
    $cc $flags -c "$source" -o "$out/$(basename "$source" .c).o" || status=1
    # The preprocessed lines that come from our own files (a line marker names the file).
    # shellcheck disable=SC2086
    found=$($cc $flags -E "$source" | awk '/^# [0-9]+ "/ { ours = $3 ~ /^"c_tests\// } ours' |
        grep -Ewo "$not_on_macos" | sort -u | tr '\n' ' ') || true
    if [ -n "$found" ]; then
        echo "$source: uses $found outside the Linux-only parts (macOS lacks them)"
        status=1
    fi
done
[ "$status" -eq 0 ] || exit 1

programs=
for source in c_tests/*.c; do
    program=$out/$(basename "$source" .c)
    # Its test hook exists in debug builds only (src/fault.rs), not in LIBDIR's release library.
    [ "$source" = c_tests/panics.c ] && continue
    $cc -o "$program" "$program.o" "$out"/fixtures.o "$out"/harness.o -L"$libdir" -lselectors \
        -lpthread -lm -Wl,-rpath,"$(cd "$libdir" && pwd)"
    programs="$programs $program"
done
# shellcheck disable=SC2086 # one word per program
tools/run_c_cases.sh $programs
