#!/bin/sh
# make demo: converts the bundled fixtures and the corpus prints
# (../shared/corpus/kst and letters) into out/*.xml with the batch form of
# kst2xml, validates every result with kst-validate, and prints a table.
# Exits non-zero when any document failed to convert or to validate.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=${KST_ROOT:-.}
CORPUS=${CORPUS:-../shared/corpus}
OUT=${OUT:-out}
REPORT=$OUT/demo-report.tsv

inputs=
for f in fixtures/*.pdf "$CORPUS"/kst/*.pdf "$CORPUS"/letters/*.pdf; do
	[ -f "$f" ] && inputs="$inputs $f"
done
if [ -z "$inputs" ]; then
	echo "demo: no PDFs in fixtures/, $CORPUS/kst or $CORPUS/letters" >&2
	exit 2
fi
mkdir -p "$OUT"
echo "kst2xml -o $OUT --report $REPORT$inputs"
# shellcheck disable=SC2086 # the list is words by design; paths have no blanks
"$ROOT/bin/kst2xml" -o "$OUT" --report "$REPORT" $inputs
status=$?
[ -f "$REPORT" ] || exit "$(( status ? status : 70 ))"

count() {	# PATTERN FILE: how often an element occurs
	grep -o "$1" "$2" | wc -l | tr -d ' '
}

echo
fmt='%-42s %-6s %5s %6s %5s %7s %5s %5s %-7s %7s\n'
printf "$fmt" document result pages blocks notes nootref refs tz valid seconds
bad=0
while IFS='	' read -r file result code msg secs; do
	[ "$file" = file ] && continue	# the header
	name=$(basename "$file" .pdf)
	xml=$OUT/$name.xml
	pages=- blocks=- notes=- refs=- verw=- tz=- valid=-
	if [ "$result" = ok ]; then
		pages=$(sed -n 's/.*<bron [^>]*paginas="\([0-9]*\)".*/\1/p' "$xml" | head -1)
		blocks=$(count '<\(aanhef\|al\|kop\|li\|slotformulering\|ondertekening\)[ >]' "$xml")
		notes=$(count '<noot[ >]' "$xml")
		refs=$(count '<nootref[ >]' "$xml")
		verw=$(count '<verwijzing[ >]' "$xml")
		tz=$(count '<\(toezegging\|nakoming\)[ >]' "$xml")
		if "$ROOT/bin/kst-validate" "$xml" >/dev/null 2>"$OUT/$name.validate.err"; then
			valid=yes
			rm -f "$OUT/$name.validate.err"
		else
			valid=NO
			bad=$((bad + 1))
		fi
	else
		result="exit $code"
		bad=$((bad + 1))
	fi
	printf "$fmt" "$name" "$result" "${pages:--}" "$blocks" "$notes" "$refs" "$verw" "$tz" "$valid" "$secs"
done <<EOF
$(sed 's/		/	-	/g' "$REPORT")
EOF

echo
if [ "$bad" -eq 0 ] && [ "$status" -eq 0 ]; then
	echo "demo: every document converted and valid; XML in $OUT/, report in $REPORT"
	exit 0
fi
echo "demo: $bad document(s) failed; reasons above and in $REPORT" >&2
exit "$(( status ? status : 1 ))"
