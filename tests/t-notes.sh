# Tests for transformers/kst-notes: hand-made streams covering every case of
# issue 5, error handling, and the real chain on the gold documents.
. tests/lib.sh
META=$KST_ROOT/transformers/kst-meta
EXP=tests/expected
TAB=$(printf '\t')

# The nootref/noot tags of a stream, each with the bytes it covers.
show() { show_tags "nootref noot" "|" "$@"; }

# ---------------------------------------------------------------- interface
check "--help exits 0" "$NOTES" --help
check "--version exits 0" "$NOTES" --version
check_status "unknown option is a usage error" 2 "$NOTES" --frobnicate
check_status "missing file: exit 3" 3 "$NOTES" "$TMP/nonexistent"
"$NOTES" "$TMP/nonexistent" >"$TMP/o" 2>"$TMP/e"
check_eq "missing file: nothing on stdout" "$(wc -c <"$TMP/o" | tr -d ' ')" 0
check_eq "missing file: one line on stderr naming it" \
	"$(grep -c "kst-notes: .*nonexistent" "$TMP/e")" 1
printf 'block\t1\tal\t1\t-\tgeen kop\n' >"$TMP/nohdr"
check_status "stream without header: exit 9" 9 "$NOTES" "$TMP/nohdr"
printf 'kst\t1\nblock\t1\tal\t1\t-\tdepartementen2.\ntag\t1\t13\t14\tsup\t-\tx\nblock\t2\tvoetnoot\t1\t-\t2 noot' >"$TMP/trunc"
"$NOTES" "$TMP/trunc" >"$TMP/o" 2>/dev/null; st=$?
check_eq "truncated stream: exit 9, nothing written" "$st $(wc -c <"$TMP/o" | tr -d ' ')" "9 0"
printf 'kst\t1\ntag\t1\tx\t2\tsup\t-\tr\n' >"$TMP/badnum"
check_status "tag with a non-numeric offset: exit 9" 9 "$NOTES" "$TMP/badnum"
printf 'kst\t1\ntag\t1\t5\t2\tsup\t-\tr\n' >"$TMP/badrange"
check_status "tag range end before start: exit 9" 9 "$NOTES" "$TMP/badrange"

# ------------------------------------------------------- hand-made streams
for c in running perpage edge; do
	in=$EXP/notes-$c.in
	"$NOTES" "$in" >"$TMP/$c.out" 2>"$TMP/$c.err"; st=$?
	check_eq "$c: exit 0, stderr empty" "$st $(wc -c <"$TMP/$c.err" | tr -d ' ')" "0 0"
	if cmp -s "$TMP/$c.out" "$EXP/notes-$c.out"; then ok "$c: stream as expected"
	else fail "$c: stream differs from $EXP/notes-$c.out"; diff "$EXP/notes-$c.out" "$TMP/$c.out" | head -20 | sed 's/^/# /'; fi
	show "$TMP/$c.out" >"$TMP/$c.tags"
	if cmp -s "$TMP/$c.tags" "$EXP/notes-$c.tags"; then ok "$c: tags cover the expected text"
	else fail "$c: tags differ from $EXP/notes-$c.tags"; diff "$EXP/notes-$c.tags" "$TMP/$c.tags" | head -20 | sed 's/^/# /'; fi
	grep -v -e "^tag$TAB[0-9]*$TAB[0-9]*$TAB[0-9]*${TAB}noot" \
	    -e "^warn${TAB}noot" "$TMP/$c.out" >"$TMP/$c.rest"
	check "$c: every input record passed on unchanged and in order" cmp -s "$TMP/$c.rest" "$in"
	"$NOTES" <"$TMP/$c.out" >"$TMP/$c.twice"
	check "$c: a second run adds nothing" cmp -s "$TMP/$c.twice" "$TMP/$c.out"
	"$NOTES" - <"$in" >"$TMP/$c.stdin"
	check "$c: stdin and file give the same bytes" cmp -s "$TMP/$c.stdin" "$TMP/$c.out"
done

# The cases of issue 5, spelled out (block, kind, attrs, rule, [text]).
t=$TMP/running.tags
check_contains "departementen2.: marker glued to a word links" "$t" "2${TAB}nootref${TAB}noot=n2${TAB}notes:superscript${TAB}[2]"
check_contains "draagmoederschap.3 Het: marker after punctuation links" "$t" "3${TAB}nootref${TAB}noot=n3${TAB}notes:superscript${TAB}[3]"
check_contains "2017-20181 .: marker 1 after 2018 links" "$t" "1${TAB}nootref${TAB}noot=n1${TAB}notes:superscript${TAB}[1]"
check_eq "160.000, 2017-2018, 12-18 jaar, artikel 52, Nr. 45: no markers" \
	"$(grep -c "^[12]${TAB}nootref" "$t")" 2
check_contains "sup run \"6,7\" gives marker 6" "$t" "8${TAB}nootref${TAB}noot=n6${TAB}notes:superscript${TAB}[6]"
check_contains "sup run \"6,7\" gives marker 7" "$t" "8${TAB}nootref${TAB}noot=n7${TAB}notes:superscript${TAB}[7]"
check_contains "sup run \"8 \": marker without the space" "$t" "9${TAB}nootref${TAB}noot=n8${TAB}notes:superscript${TAB}[8]"
check_eq "CO2 (subscript), m2 (unit), 2e (ordinal): no markers" \
	"$(grep -c "^8${TAB}nootref" "$t")" 3
check_contains "continuation line starting \"31 015\" stays in note 1" "$t" \
	"4${TAB}noot${TAB}id=n1&nr=1${TAB}notes:body-number-line${TAB}[VSO Beleidsreactie slachtoffermonitor seksueel geweld tegen kinderen 2017–2018 (Kamerstuk|31 015, nr. 202)]"
check_contains "two notes in one block: split by number sequence" "$t" \
	"5${TAB}noot${TAB}id=n3&nr=3${TAB}notes:split-by-sequence${TAB}[Prevalentiemonitor"
check_contains "number on its own line, text below" "$t" \
	"10${TAB}noot${TAB}id=n4&nr=4${TAB}notes:number-own-line${TAB}[Slachtoffermonitor"
check_contains "number as a block of its own keeps its block" "$t" \
	"11${TAB}noot${TAB}id=n5&nr=5${TAB}notes:number-own-block${TAB}[]"
check_contains "number as a block of its own, text in the next" "$t" \
	"12${TAB}noot${TAB}id=n5&nr=5${TAB}notes:number-own-block${TAB}[Commissie De Vries"
check_contains "note continued on the next page: vervolg=1" "$t" \
	"17${TAB}noot${TAB}id=n8&nr=8&vervolg=1${TAB}notes:continuation${TAB}[volgende pagina, met nog een regel.]"
check_contains "the note's own raised number is no marker" "$t" \
	"13${TAB}noot${TAB}id=n6&nr=6${TAB}notes:body-number-line${TAB}[GREVIO’s evaluatierapport, 20 januari 2020]"
o=$TMP/running.out
check_contains "note without marker: kept, warned" "$o" "warn${TAB}noot-unlinked${TAB}footnote 10 (page 3)"
check_contains "note without marker: still a noot" "$t" "19${TAB}noot${TAB}id=n10&nr=10"
check_contains "marker without note: warned" "$o" "warn${TAB}nootref-missing${TAB}marker 12 (page 3)"
check_contains "URL still broken in a note: warned, text untouched" "$o" "warn${TAB}noot-url-broken${TAB}footnote 9:"

t=$TMP/perpage.tags
check_eq "numbering per page: each page's markers link on their page" \
	"$(grep nootref "$t" | cut -f1,3 | tr '\t\n' ': ')" "2:noot=n1 2:noot=n2 5:noot=n3 5:noot=n4 8:noot=n5 8:noot=n6 8:noot=n7 "
check_eq "numbering per page: notes numbered 1 2 1 2 1 2 3" \
	"$(grep "${TAB}noot${TAB}" "$t" | cut -f3 | sed 's/.*nr=//' | tr '\n' ' ')" "1 2 1 2 1 2 3 "
check_contains "marker after a space" "$t" "2${TAB}nootref${TAB}noot=n2${TAB}notes:superscript-after-space${TAB}[2]"
check_contains "superscript characters are markers" "$t" "5${TAB}nootref${TAB}noot=n4${TAB}notes:unicode-superscript${TAB}[²]"
check_contains "lines joined by spaces: split before the next number, not at \"artikel 2\"" "$t" \
	"3${TAB}noot${TAB}id=n1&nr=1${TAB}notes:body-number-line${TAB}[Kamerstuk 31 015, nr. 202 en artikel 2 van de wet]"

t=$TMP/edge.tags
check_contains "unnumbered first note kept, without nr" "$t" "1${TAB}noot${TAB}id=n1${TAB}notes:unnumbered"
check_contains "raised number glued to the text: 1Bij" "$t" "${TAB}[Bij hoogtechnologisch"
check_contains "continuation block starting with \"31 015\" is vervolg" "$t" \
	"7${TAB}noot${TAB}id=n4&nr=3&vervolg=1${TAB}notes:continuation${TAB}[31 015, nr. 202) op de volgende pagina.]"
check_contains "number with no text: kept, warned" "$TMP/edge.out" "warn${TAB}noot-empty${TAB}footnote 2 (page 2)"
check_contains "footnote body taken for body text: warned, no marker" "$TMP/edge.out" \
	"warn${TAB}noot-in-body${TAB}block 9 (page 3, al) opens with a raised 5"
check_eq "footnote body taken for body text: its number is no nootref" "$(grep -c "^9${TAB}nootref" "$t")" 0
check_contains "marker opening a block, then punctuation: still a marker" "$t" "10${TAB}nootref${TAB}noot=n4${TAB}notes:superscript${TAB}[3]"
check_contains "user's own records passed on" "$TMP/edge.out" "custom${TAB}record${TAB}from a user filter"

# Hostile input: a footnote block of 30 000 numbers in sequence, tags past
# the text, on blocks that do not exist: no crash, linear time.
{
	printf 'kst\t1\nblock\t1\tal\t1\t-\tx1\ntag\t1\t1\t2\tsup\t-\tr\ntag\t7\t0\t9\tsup\t-\tr\ntag\t1\t1\t99999\tsup\t-\tr\nblock\t2\tvoetnoot\t1\t-\t'
	i=1; while [ $i -le 30000 ]; do printf '%d a\\n' $((i % 1000)); i=$((i + 1)); done
	printf '\n'
} >"$TMP/big"
"$NOTES" "$TMP/big" >"$TMP/big.out" 2>"$TMP/big.err"; st=$?
check_eq "hostile input: exit 0" "$st" 0
check_eq "hostile input: one marker linked" "$(grep -c "${TAB}nootref${TAB}" "$TMP/big.out")" 1

# ----------------------------------------------------- real documents
# Checks, for each gold document, that every gold note is found with its
# exact text (whitespace normalised; TEXT ending in … is a prefix) and that
# it is linked to the marker right after the gold anchor text.
GOLD='
function norm(s) {
	gsub("\302\240", " ", s); gsub(/[ \t\n\r]+/, " ", s)
	sub(/^ /, "", s); sub(/ $/, "", s)
	return s
}
function attr(a, k,   n, i, p) {
	n = split(a, p, "&")
	for (i = 1; i <= n; i++) if (index(p[i], k "=") == 1) return substr(p[i], length(k) + 2)
	return ""
}
BEGIN { FS = "\t" }
FNR == NR { if ($1 == "noot") { g++; gnr[g] = $2; ganc[g] = $3; gtxt[g] = $4 }; next }
$1 == "block" { text[$2] = unesc($6); next }
$1 == "tag" && $5 == "noot" {
	id = attr($6, "id"); nr = attr($6, "nr")
	if (!(id in ntext)) { ntext[id] = ""; if (nr != "" && !(nr in bynr)) bynr[nr] = id }
	ntext[id] = ntext[id] " " substr(text[$2], $3 + 1, $4 - $3)
	next
}
$1 == "tag" && $5 == "nootref" {
	id = attr($6, "noot"); r = ++nref[id]
	refbefore[id, r] = substr(text[$2], 1, $3)
}
END {
	for (i = 1; i <= g; i++) {
		nr = gnr[i]
		if (!(nr in bynr)) { print "# " doc ": note " nr " not found"; continue }
		found++; id = bynr[nr]
		got = norm(ntext[id]); want = norm(gtxt[i])
		if (want ~ /\342\200\246$/) {
			want = norm(substr(want, 1, length(want) - 3))
			isexact = substr(got, 1, length(want)) == want
		} else
			isexact = got == want
		if (isexact) exact++
		else print "# " doc ": note " nr " text: got [" got "] want [" want "]"
		a = norm(ganc[i]); l = 0
		for (r = 1; r <= nref[id]; r++) {
			b = norm(refbefore[id, r])
			if (a == "-" || substr(b, length(b) - length(a) + 1) == a) l = 1
		}
		if (l) linked++
		else if (nref[id]) print "# " doc ": note " nr " linked, but not after [" ganc[i] "]"
		else print "# " doc ": note " nr " has no marker linked"
	}
	printf "%s\t%d\t%d\t%d\t%d\n", doc, g, found, exact, linked
}'
printf '%s\n' "$GOLD" >"$TMP/gold.awk"

chain() {	# pdf -> stream after kst-notes
	if [ -x "$META" ]; then
		"$EXTRACT" "$1" | "$LAYOUT" | "$META" | "$NOTES"
	else
		"$EXTRACT" "$1" | "$LAYOUT" | "$NOTES"
	fi
}

real() {	# name pdf gold
	name=$1 pdf=$2 gold=$3
	if [ ! -x "$EXTRACT" ] || [ ! -x "$LAYOUT" ]; then
		ok "$name: SKIP kst-extract or kst-layout not built yet"
		return
	fi
	if [ ! -f "$pdf" ]; then
		ok "$name: SKIP $pdf does not exist yet"
		return
	fi
	if ! chain "$pdf" >"$TMP/$name.stream" 2>"$TMP/$name.err"; then
		fail "$name: chain failed: $(head -1 "$TMP/$name.err")"
		return
	fi
	chain "$pdf" 2>/dev/null | cmp -s - "$TMP/$name.stream" &&
		ok "$name: byte-identical run after run" ||
		fail "$name: output differs between two runs"
	LC_ALL=C awk -v doc="$name" -f tests/stream.awk -f "$TMP/gold.awk" "$gold" "$TMP/$name.stream" >"$TMP/$name.score"
	grep '^#' "$TMP/$name.score"
	set -- $(grep -v '^#' "$TMP/$name.score" | cut -f2-)
	check_eq "$name: notes found ($2/$1)" "$2" "$1"
	check_eq "$name: notes with exact text ($3/$1)" "$3" "$1"
	check_eq "$name: notes linked after the gold anchor ($4/$1)" "$4" "$1"
}

# The same real text as layout might also have given it: the number on its
# own line, the number as a block of its own, all notes of a page in one
# block (lines kept, or joined by spaces). kst-notes must find them all.
VARIANT='
BEGIN { FS = OFS = "\t" }
function flush() { if (held != "") { print held; printf "%s", heldtags }; held = heldtags = "" }
v == "own-line" && $1 == "block" && $3 == "voetnoot" { sub(/^[0-9]+ /, "&\\n", $6); sub(/ \\n/, "\\n", $6); print; next }
v == "own-block" && $1 == "block" {
	if ($3 == "voetnoot" && match($6, /^[0-9]+ /)) {
		split_[$2] = 1; rest = substr($6, RLENGTH + 1)
		$6 = substr($6, 1, RLENGTH - 1); $2 = 2 * $2; print
		$2 = $2 + 1; $6 = rest; print; next
	}
	$2 = 2 * $2; print; next
}
v == "own-block" && $1 == "tag" { if ($2 in split_) next; $2 = 2 * $2; print; next }
v ~ /^merged/ && $1 == "block" && $3 == "voetnoot" && held != "" && $4 == heldpage {
	held = held (v == "merged-lines" ? "\\n" : " ") $6; dropped[$2] = 1; next
}
v ~ /^merged/ && $1 == "tag" && ($2 in dropped) { next }
v ~ /^merged/ && $1 == "tag" && held != "" && $2 == heldid { heldtags = heldtags $0 "\n"; next }
v ~ /^merged/ { flush() }
v ~ /^merged/ && $1 == "block" && $3 == "voetnoot" { held = $0; heldid = $2; heldpage = $4; next }
{ print }
END { flush() }'

variants() {	# name pdf gold
	name=$1 pdf=$2 gold=$3
	[ -x "$EXTRACT" ] && [ -x "$LAYOUT" ] && [ -f "$pdf" ] || return 0
	if [ -x "$META" ]; then "$EXTRACT" "$pdf" | "$LAYOUT" | "$META"
	else "$EXTRACT" "$pdf" | "$LAYOUT"; fi >"$TMP/$name.meta" 2>/dev/null || return 0
	for v in own-line own-block merged-lines merged-spaces; do
		LC_ALL=C awk -v v=$v "$VARIANT" "$TMP/$name.meta" | "$NOTES" >"$TMP/$name.$v" 2>"$TMP/$name.$v.err" ||
			{ fail "$name ($v): kst-notes failed: $(head -1 "$TMP/$name.$v.err")"; continue; }
		LC_ALL=C awk -v doc="$name ($v)" -f tests/stream.awk -f "$TMP/gold.awk" "$gold" "$TMP/$name.$v" >"$TMP/$name.$v.score"
		grep '^#' "$TMP/$name.$v.score"
		set -- $(grep -v '^#' "$TMP/$name.$v.score" | cut -f2-)
		check_eq "$name, layout variant $v: found/exact/linked $2/$3/$4 of $1" "$2 $3 $4" "$1 $1 $1"
	done
}

real draagmoederschap $CORPUS/letters/kamerbrief-2011-03-01-draagmoederschap.pdf \
	$CORPUS/letters/kamerbrief-2011-03-01-draagmoederschap.gold.tsv
real bnc-fiche $CORPUS/letters/bnc-fiche-5-mifid-2021.pdf \
	$CORPUS/letters/bnc-fiche-5-mifid-2021.gold.tsv
real seed fixtures/seed-kst-34843-45.pdf $CORPUS/seed/kst-34843-45.gold.tsv
variants bnc-fiche $CORPUS/letters/bnc-fiche-5-mifid-2021.pdf \
	$CORPUS/letters/bnc-fiche-5-mifid-2021.gold.tsv
variants seed fixtures/seed-kst-34843-45.pdf $CORPUS/seed/kst-34843-45.gold.tsv
exit 0
