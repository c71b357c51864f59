#!/bin/sh
# The fixture PDFs in fixtures/ (made by fixtures/kst-typeset from fixtures/*.kst):
# each is there, is a PDF with the pages it should have, carries the hard cases
# in its text layer where the fixture promises them, and has its expectations
# beside it. When the typesetter is built (make fixtures/kst-typeset; make check
# does not build it), the expectations and the PDFs are regenerated and must
# not change.
. tests/lib.sh

FIXTURES="seed-kst-34843-45:6 hyphen-list:2 footnotes:2 motie-2p:2 notes-restart:2"
have_extract=0
[ -x "$EXTRACT" ] && have_extract=1

# lines FILE.pdf: the text of every line record, as "PAGE<TAB>TEXT"
lines() {
	"$EXTRACT" "$1" 2>/dev/null | awk -F '\t' '$1 == "line" { print $2 "\t" $NF }'
}

# followed_by "desc" FILE.pdf END START: a line ending in END is followed by
# one starting with START (the case sits at a line end for sure)
followed_by() {
	if lines "$2" | awk -F '\t' -v e="$3" -v s="$4" '
		found == 0 && prev != "" && index($2, s) == 1 { found = 1 }
		{ prev = ""; n = length($2); m = length(e)
		  if (n >= m && substr($2, n - m + 1) == e) prev = $2 }
		END { exit found ? 0 : 1 }'; then
		ok "$1"
	else
		fail "$1: no line ending in [$3] before one starting with [$4]"
	fi
}

for spec in $FIXTURES; do
	name=${spec%:*} want=${spec#*:}
	pdf=fixtures/$name.pdf
	check "$name: PDF committed" test -s "$pdf"
	check_eq "$name: starts with %PDF-" "$(head -c 5 "$pdf")" "%PDF-"
	for kind in expected.txt blocks.tsv; do
		check "$name: $kind beside it" test -s "fixtures/$name.$kind"
	done
	notes=$(grep -c '^\[^[0-9]*\]: ' "fixtures/$name.kst")
	check "$name: notes.tsv beside it" test -f "fixtures/$name.notes.tsv"
	check_eq "$name: one notes.tsv line per footnote in the source" \
		"$(wc -l < "fixtures/$name.notes.tsv" | tr -d ' ')" "$notes"
	if [ $have_extract -eq 1 ]; then
		check_eq "$name: page count" \
			"$("$EXTRACT" "$pdf" | grep -c '^page	')" "$want"
	else
		ok "$name: page count # SKIP kst-extract not built"
	fi
done

# The seed letter: every footnote of the gold file, same number and text, its
# anchor ending in the word our source puts before the marker.
gold=$CORPUS/seed/kst-34843-45.gold.tsv
if [ -f "$gold" ]; then
	bad=$(awk -F '\t' '
		FNR == NR { if ($1 == "noot") { text[$2] = $4; anchor[$2] = $3; n++ } next }
		{ seen++
		  if (!($1 in text)) { print "extra " $1; next }
		  if (text[$1] != $3) print "text " $1
		  a = anchor[$1]; m = length($2)
		  if (substr(a, length(a) - m + 1) != $2) print "anchor " $1 }
		END { if (seen != n) print "count " seen "/" n }' \
		"$gold" fixtures/seed-kst-34843-45.notes.tsv)
	check_eq "seed: notes.tsv equals the gold footnotes" "$bad" ""
	meta() { sed -n "s/^@meta $1 //p" fixtures/seed-kst-34843-45.kst; }
	gold() { awk -F '\t' -v k="$1" '$1 == "meta" && $2 == k { print $3 }' "$gold"; }
	check_eq "seed: parlId as in the gold file" "$(meta parlId)" "$(gold parlId)"
	check_eq "seed: dossier as in the gold file" "$(meta dossier | tr -d ' ')" "$(gold dossier)"
	check_eq "seed: nr as in the gold file" "$(meta nr)" "$(gold ondernummer)"
	check_eq "seed: vergaderjaar as in the gold file" "$(meta vergaderjaar | sed 's/–/-/')" "$(gold vergaderjaar)"
	check_contains "seed: addressee as in the gold file" fixtures/seed-kst-34843-45.blocks.tsv \
		"aanhef	-	Aan de $(gold geadresseerde)"
	check_contains "seed: signatory as in the gold file" fixtures/seed-kst-34843-45.blocks.tsv \
		"De $(gold functie),\\n$(gold ondertekenaar)"
else
	ok "seed: notes.tsv equals the gold footnotes # SKIP no corpus"
fi
exp=fixtures/seed-kst-34843-45.expected.txt
check_contains "seed: line-end hyphen undone (Werkgelegenheid)" "$exp" "Sociale Zaken en Werkgelegenheid stuur"
check_contains "seed: hyphen kept in Basis- en Voortgezet" "$exp" "Basis- en Voortgezet"
check_contains "seed: daderschap" "$exp" "slachtoffer- en daderschap, versterken"
check_eq "seed: three nested bullets" "$(grep -c '^  • de vraag' "$exp")" 3
check_eq "seed: four dash items" "$(grep -c '^– ' "$exp")" 4
check_contains "seed: marker removed, space before the stop kept" "$exp" "kinderen 2017–2018 . Ik heb"
check_contains "seed: signature" fixtures/seed-kst-34843-45.blocks.tsv \
	"ondertekening	-	De Staatssecretaris Volksgezondheid, Welzijn en Sport,\\nP. Blokhuis"

# What the fixtures promise to hold in their text layer.
if [ $have_extract -eq 1 ]; then
	h=fixtures/hyphen-list.pdf f=fixtures/footnotes.pdf
	followed_by "hyphen-list: Basis-| en Voortgezet" $h "Basis-" "en Voortgezet"
	followed_by "hyphen-list: zorg-| en" $h "zorg-" "en onderwijsprofessional"
	followed_by "hyphen-list: ICT-|beleid" $h "ICT-" "beleid:"
	followed_by "hyphen-list: e-|learning" $h " e-" "learning die"
	followed_by "hyphen-list: dader-|schap" $h "dader-" "schap en op"
	followed_by "hyphen-list: URL broken after its scheme" $h "https://" "www.rijksoverheid.nl/"
	followed_by "hyphen-list: URL broken after a slash" $h "onderwijs/documenten/" "kamerstukken/2021/"
	followed_by "footnotes: note line starting with digits" $f "(Kamerstuk" "31 015, nr. 202)"
	followed_by "footnotes: URL note broken after a hyphen" $f "kindermishandeling-en-" "huiselijk-geweld"
	check_eq "footnotes: note 4 goes on at the foot of page 2" \
		"$(lines $f | awk -F '\t' '$1 == 2 && index($2, "ouderschap, meeroudergezag") == 1' | wc -l | tr -d ' ')" 1
	check_eq "footnotes: markers are raised runs" \
		"$("$EXTRACT" $f | awk -F '\t' '$1 == "run" && $5 > 2' | wc -l | tr -d ' ')" 6
	check "footnotes: marker glued to the word" sh -c "'$EXTRACT' $f | grep -q 'departementen2\\.'"
	check "footnotes: marker after a full stop" sh -c "'$EXTRACT' $f | grep -q 'draagmoederschap\\.1 Het'"
	check "footnotes: 2017–20183 ." sh -c "'$EXTRACT' $f | grep -q '2017–20183 \\.'"
	r=fixtures/notes-restart.pdf
	check_eq "notes-restart: printed numbers restart on page 2" \
		"$(cut -f1 fixtures/notes-restart.notes.tsv | tr '\n' ' ')" "1 2 1 2 3 "
	check "notes-restart: marker 1 again on page 2" sh -c \
		"'$EXTRACT' $r | grep -q '^line	2	.*kapitaalmarktenunie\.1 Het'"
	check_eq "notes-restart: note numbers on lines of their own" \
		"$("$EXTRACT" $r | awk -F '\t' '$1 == "line" && $NF ~ /^[1-3]$/ && $3 == "221.10"' | wc -l | tr -d ' ')" 5
	check "seed: running footer on page 2" sh -c \
		"'$EXTRACT' fixtures/seed-kst-34843-45.pdf | grep -q '^line	2	.*Tweede Kamer, vergaderjaar 2020–2021, 34 843, nr. 45$'"
	check "motie: dossier with suffix in the footer" sh -c \
		"'$EXTRACT' fixtures/motie-2p.pdf | grep -q 'vergaderjaar 2022–2023, 36 200 VII, nr. 45$'"
else
	ok "text layer checks # SKIP kst-extract not built"
fi

# Regenerate with the typesetter when it is built: expectations identical,
# PDFs byte-identical when made by the same cairo (its version is in the PDF).
TS=fixtures/kst-typeset
if [ -x $TS ]; then
	check_status "kst-typeset: missing source" 3 $TS "$TMP/none.kst" "$TMP/x.pdf"
	check_status "kst-typeset: usage" 2 $TS onlyone.kst
	check "kst-typeset --version" $TS --version
	for spec in $FIXTURES; do
		name=${spec%:*}
		if ! $TS -e "fixtures/$name.kst" "$TMP/$name.pdf" 2>"$TMP/err"; then
			fail "$name: regenerates: $(cat "$TMP/err")"
			continue
		fi
		for kind in expected.txt notes.tsv blocks.tsv; do
			check "$name: regenerated $kind unchanged" cmp "fixtures/$name.$kind" "$TMP/$name.$kind"
		done
		producer() { grep -a -o 'cairo [0-9.]*' "$1" | head -1; }
		if [ "$(producer "fixtures/$name.pdf")" = "$(producer "$TMP/$name.pdf")" ]; then
			check "$name: regenerated PDF byte-identical" cmp "fixtures/$name.pdf" "$TMP/$name.pdf"
		else
			ok "$name: regenerated PDF byte-identical # SKIP another cairo version"
		fi
	done
else
	ok "regeneration # SKIP fixtures/kst-typeset not built (make fixtures/kst-typeset)"
fi
