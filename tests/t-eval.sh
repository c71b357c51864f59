#!/bin/sh
# Quality floors: every metric of make eval must stay at or above its floor in
# tests/eval-floors.tsv (docs/eval.md). Runs in the plain build tree only: the
# figures do not depend on the sanitizers and the conversion costs time.
. tests/lib.sh
if [ "$KST_ROOT" != "." ]; then
	ok "eval floors skipped in $KST_ROOT (checked in the plain build)"
	exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
	ok "eval floors skipped: no python3"
	exit 0
fi
python3 tests/eval.py --check --keep "$TMP" --tsv "$TMP/eval.tsv"
# The similarity measure itself: identical texts 1, disjoint 0, one word of four changed 0.75.
printf 'een twee drie vier\n' >"$TMP/a.txt"
printf 'een  twee\tdrie\nvier\n' >"$TMP/b.txt"
printf 'een twee drie VIJF\n' >"$TMP/c.txt"
printf 'x y\n' >"$TMP/d.txt"
check_eq "similarity: white space does not count" "$(python3 tests/similarity.py "$TMP/a.txt" "$TMP/b.txt")" 1.0000
check_eq "similarity: one word of four differs" "$(python3 tests/similarity.py "$TMP/a.txt" "$TMP/c.txt")" 0.7500
check_eq "similarity: nothing in common" "$(python3 tests/similarity.py "$TMP/a.txt" "$TMP/d.txt")" 0.0000
# A forced line break is \n in a fixture's blocks.tsv and &#10; in our XML.
printf 'ondertekening\t-\tDe Staatssecretaris,\\nP. Blokhuis\n' > "$TMP/e.blocks.tsv"
printf '<kamerstuk xmlns="urn:kst2xml:kamerstuk:1"><inhoud><ondertekening pagina="1">De Staatssecretaris,&#10;P. Blokhuis</ondertekening></inhoud></kamerstuk>\n' > "$TMP/e.xml"
check_eq "similarity: a line break escaped in blocks.tsv is a line break" "$(python3 tests/similarity.py "$TMP/e.xml" "$TMP/e.blocks.tsv")" 1.0000
# The scoring itself, on a hand-made XML with right and wrong items of every
# kind: 5/6 meta (date off by a day), notes 3/4 found, 2/4 exact, 2/4 linked,
# refs 2/3 recall and 2/3 precision (cbs.nl optional), commitments 2/2 found,
# 2/3 precise, 1/2 of the right kind, similarity 57/58 words (one word changed).
E=tests/expected
python3 tests/eval.py --score $E/eval-sample.xml $E/eval-sample.gold.tsv $E/eval-sample.txt >"$TMP/sample.out" 2>&1
if diff -u $E/eval-sample.out "$TMP/sample.out" >"$TMP/sample.diff"; then
	ok "eval scoring of a hand-made XML against its gold file"
else
	fail "eval scoring of a hand-made XML against its gold file"
	sed 's/^/# /' "$TMP/sample.diff"
fi
