#!/bin/sh
# Runs the whole test suite once per build tree given (default: .).
# Every test prints TAP-style lines: "ok - what" or "not ok - what".
# Ends with the summary line "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 2
[ $# -gt 0 ] || set -- .
log=$(mktemp "${TMPDIR:-/tmp}/kst-tests.XXXXXX")
trap 'rm -f "$log"' EXIT INT TERM
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=70}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=70}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}"

run_one() {	# root name command...
	root=$1 name=$2; shift 2
	out=$("$@" 2>&1); status=$?
	printf '%s\n' "$out" | sed -n -e "s#^ok - #ok - [$root] $name: #p" -e "s#^not ok - #not ok - [$root] $name: #p" | tee -a "$log"
	if [ $status -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
		echo "not ok - [$root] $name: exited $status" | tee -a "$log"
		printf '%s\n' "$out" | tail -20 | sed 's/^/# /'
	fi
	if printf '%s\n' "$out" | grep -q '^not ok'; then
		printf '%s\n' "$out" | grep -v '^ok' | tail -40 | sed 's/^/# /'
	fi
}

for root in "$@"; do
	for t in "$root"/tests/unit/test-*; do
		[ -x "$t" ] || continue
		run_one "$root" "$(basename "$t")" "$t"
	done
	for t in tests/t-*.sh; do
		[ -f "$t" ] || continue
		run_one "$root" "$(basename "$t" .sh)" env KST_ROOT="$root" sh "$t"
	done
done

passed=$(grep -c '^ok' "$log")
failed=$(grep -c '^not ok' "$log")
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
