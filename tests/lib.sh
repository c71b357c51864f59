# Shared helpers for tests/t-*.sh. Source it: . tests/lib.sh
# KST_ROOT is the build tree under test (. or out/san).
set -u
KST_ROOT=${KST_ROOT:-.}
CORPUS=${CORPUS:-../shared/corpus}
EXTRACT=$KST_ROOT/extractors/kst-extract
LAYOUT=$KST_ROOT/transformers/kst-layout
NOTES=$KST_ROOT/transformers/kst-notes
TOXML=$KST_ROOT/transformers/kst-xml
VALIDATE=$KST_ROOT/bin/kst-validate
KST2XML=$KST_ROOT/bin/kst2xml
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kst-t.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

ok()   { echo "ok - $*"; }
fail() { echo "not ok - $*"; }
# check "description" command... : passes when the command exits 0
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else fail "$d"; fi; }
# check_status "description" STATUS command... : passes when it exits STATUS
check_status() {
	d=$1 want=$2; shift 2
	"$@" >/dev/null 2>&1; got=$?
	if [ "$got" -eq "$want" ]; then ok "$d"; else fail "$d (exit $got, want $want)"; fi
}
# check_eq "description" GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got [$2] want [$3]"; fi
}
# check_contains "description" FILE FIXED-STRING
check_contains() {
	if grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1: [$3] not in $2"; fi
}
# show_tags "KIND…" NL FILE…: each tag of those kinds with the text it covers
# (tests/show-tags.awk), line breaks shown as NL.
show_tags() {
	kinds=$1 nl=$2; shift 2
	LC_ALL=C awk -v kinds="$kinds" -v nl="$nl" -f tests/stream.awk -f tests/show-tags.awk "$@"
}
