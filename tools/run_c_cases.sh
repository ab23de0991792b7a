#!/bin/sh
# Runs every case of each C test program given, each case in a process of its own (as
# tests/c_api.rs does), and prints each failed or skipped case and a closing
# "N passed, N failed, N skipped" line. A case that prints "SKIPPED" (it could not run here,
# e.g. without root) counts as skipped, never as passed. Exits non-zero if any case failed.
#
#   tools/run_c_cases.sh PROGRAM...
set -u
passed=0
failed=0
skipped=0
for program in "$@"; do
    name=$(basename "$program")
    cases=$("$program" --list) || { echo "FAIL $name --list"; failed=$((failed + 1)); continue; }
    for case in $cases; do
        if output=$("$program" "$case" 2>&1 </dev/null); then
            if printf '%s\n' "$output" | grep -q 'SKIPPED'; then
                skipped=$((skipped + 1))
                printf 'SKIP %s %s: %s\n' "$name" "$case" "$(printf '%s\n' "$output" | grep SKIPPED)"
            else
                passed=$((passed + 1))
            fi
        else
            failed=$((failed + 1))
            printf 'FAIL %s %s\n%s\n' "$name" "$case" "$output"
        fi
    done
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
