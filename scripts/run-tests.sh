#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run-tests.sh DIR [NAME...]
#
# Run every executable DIR/test_* (or only the NAMEs given: test_foo, foo or a
# glob), in sorted order, each under `timeout`, streaming its output.  Counts
# come from cmocka's summary lines
#     [  PASSED  ] N test(s).
#     [  FAILED  ] N test(s), listed below:
#     [  SKIPPED ] N test(s), listed below:
# summed over every group a program runs.  A program that exits nonzero
# (crash, sanitizer report, timeout) without reporting a failed test counts as
# one failure; one that exits 0 without any summary counts as one pass.
# The last line printed is "N passed, N failed" (", N skipped" when some were);
# the exit status is 1 if anything failed or no test program was found.
#
#   TEST_TIMEOUT=seconds   per program (default 600)
set -uo pipefail

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 DIR [NAME...]" >&2
	exit 2
fi
dir=$1
shift
timeout_s=${TEST_TIMEOUT:-600}

# Plain cmocka output on stdout/stderr, whatever the environment says.
unset CMOCKA_MESSAGE_OUTPUT CMOCKA_XML_FILE
# stdbuf works by LD_PRELOAD, which gcc's ASan refuses unless told not to check.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:verify_asan_link_order=0
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

LC_ALL=C
export LC_ALL

linebuf=()
if command -v stdbuf >/dev/null 2>&1; then
	linebuf=(stdbuf -oL)
fi

progs=()
if [ $# -eq 0 ]; then
	for f in "$dir"/test_*; do
		[ -f "$f" ] && [ -x "$f" ] && progs+=("$f")
	done
else
	for name in "$@"; do
		matched=0
		for pat in "$name" "test_$name"; do
			for f in "$dir"/$pat; do
				if [ -f "$f" ] && [ -x "$f" ]; then
					progs+=("$f")
					matched=1
				fi
			done
			[ $matched = 1 ] && break
		done
		if [ $matched = 0 ]; then
			echo "run-tests: no test program matches '$name' in $dir" >&2
			echo "0 passed, 1 failed"
			exit 1
		fi
	done
fi

if [ ${#progs[@]} -eq 0 ]; then
	echo "run-tests: no test program (test_*) in $dir" >&2
	echo "0 passed, 0 failed"
	exit 1
fi

# Sorted, without duplicates.
mapfile -t progs < <(printf '%s\n' "${progs[@]}" | sort -u)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-tests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

total_pass=0
total_fail=0
total_skip=0
bad_progs=()

# Sum the N of every "[  WORD  ] N test(s)" line in the files given.
sum_of() {
	local word=$1
	shift
	sed -n "s/^\[ *$word *\] \([0-9][0-9]*\) test(s).*/\1/p" "$@" |
		awk '{ s += $1 } END { print s + 0 }'
}

for prog in "${progs[@]}"; do
	name=$(basename -- "$prog")
	printf '\n===== %s =====\n' "$name"
	start=$(date +%s)

	# One pipe for both streams, stdout made line-buffered (stdbuf), so the log
	# reads in order and every line arrives whole.
	timeout -k 10 "$timeout_s" "${linebuf[@]}" "$prog" </dev/null 2>&1 | tee "$tmp/log"
	rc=${PIPESTATUS[0]}

	pass=$(sum_of PASSED "$tmp/log")
	fail=$(sum_of FAILED "$tmp/log")
	skip=$(sum_of SKIPPED "$tmp/log")
	summaries=$(grep -c '^\[ *\(PASSED\|FAILED\) *\] [0-9][0-9]* test(s)' "$tmp/log")

	secs=$(( $(date +%s) - start ))
	note=""
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
		if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "$secs" -ge "$timeout_s" ]; }; then
			note=" (timed out after ${timeout_s}s)"
		elif [ "$rc" -gt 128 ]; then
			note=" (killed by signal $((rc - 128)))"
		else
			note=" (exit status $rc, no failed test reported)"
		fi
	elif [ "$rc" -eq 0 ] && [ "$summaries" -eq 0 ]; then
		pass=1
		note=" (no cmocka summary; counted by exit status)"
	fi

	printf -- '----- %s: %d passed, %d failed' "$name" "$pass" "$fail"
	[ "$skip" -gt 0 ] && printf ', %d skipped' "$skip"
	printf ' in %ds%s\n' "$secs" "$note"

	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
	[ "$fail" -gt 0 ] && bad_progs+=("$name")
done

echo
if [ ${#bad_progs[@]} -gt 0 ]; then
	echo "run-tests: failing programs: ${bad_progs[*]}"
fi
if [ "$total_skip" -gt 0 ]; then
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
