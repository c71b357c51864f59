#!/bin/sh
# kst-extract: bad input, stdin, real documents, superscript runs, text
# normalisation, stable output, and a small fuzz smoke test.
. tests/lib.sh
BAD=fixtures/bad
MOTIE=$CORPUS/kst/kst-32545-143.pdf
BRIEF=$CORPUS/letters/kamerbrief-2011-03-01-draagmoederschap.pdf

# bad NAME STATUS FILE [ARGS...]: exit STATUS, nothing on stdout, exactly one
# line on stderr that names the file.
bad() {
	name=$1 want=$2 file=$3; shift 3
	"$EXTRACT" "$@" "$file" >"$TMP/out" 2>"$TMP/err"; got=$?
	check_eq "$name: exit status" "$got" "$want"
	check_eq "$name: nothing on stdout" "$(wc -c <"$TMP/out" | tr -d ' ')" 0
	check_eq "$name: one line on stderr" "$(wc -l <"$TMP/err" | tr -d ' ')" 1
	check_contains "$name: message names the file" "$TMP/err" "kst-extract: $file: "
}

# --- command line
check "--help exits 0" "$EXTRACT" --help
check "--version exits 0" "$EXTRACT" --version
check_eq "--version names the version" "$("$EXTRACT" --version)" "kst-extract 0.1.0"
check_status "unknown option is a usage error" 2 "$EXTRACT" --bogus "$MOTIE"
check_status "two files are a usage error" 2 "$EXTRACT" "$MOTIE" "$MOTIE"

# --- bad input: each cause its own status (lib/kst.h)
bad "missing file" 3 "$TMP/nonexistent.pdf"
bad "directory" 3 "$TMP"
: >"$TMP/empty.pdf"
bad "empty file" 4 "$TMP/empty.pdf"
bad "not a PDF" 5 "$CORPUS/bad/not-a-pdf.pdf"
bad "only a %PDF-1.6 header" 6 "$CORPUS/bad/truncated.pdf"
bad "header then junk" 6 "$BAD/garbage.pdf"
bad "empty page tree" 6 "$BAD/nopages.pdf"
head -c 10000 "$MOTIE" >"$TMP/cut.pdf"
bad "real PDF cut at 10000 bytes" 6 "$TMP/cut.pdf"
check_contains "cut PDF: says damaged or truncated" "$TMP/err" "damaged or truncated"
bad "encrypted, user password" 7 "$BAD/encrypted.pdf"
check_contains "encrypted: says so" "$TMP/err" "encrypted"
bad "image-only scan" 8 "$CORPUS/scanned/blg-1007826-image-only.pdf"
check_contains "scan: says OCR is needed" "$TMP/err" "OCR"
check_contains "scan: says there is no text layer" "$TMP/err" "no text layer"
bad "page without text" 8 "$BAD/notext.pdf"
bad "--max-pages" 10 "$BAD/text.pdf" --max-pages 1
bad "--max-bytes" 10 "$MOTIE" --max-bytes 1000
"$EXTRACT" --max-bytes 1000 <"$MOTIE" >"$TMP/out" 2>"$TMP/err"
check_eq "--max-bytes on stdin: exit status" "$?" 10
check_eq "--max-bytes on stdin: nothing on stdout" "$(wc -c <"$TMP/out" | tr -d ' ')" 0
check_contains "stdin named in message" "$TMP/err" "kst-extract: <stdin>: "
"$EXTRACT" - <"$CORPUS/bad/not-a-pdf.pdf" >"$TMP/out" 2>/dev/null
check_eq "not a PDF on stdin: exit status" "$?" 5

# --- a real motion
"$EXTRACT" "$MOTIE" >"$TMP/motie.kst" 2>"$TMP/err"
check_eq "motion: exit 0" "$?" 0
check_eq "motion: quiet on stderr" "$(wc -c <"$TMP/err" | tr -d ' ')" 0
check_eq "motion: header" "$(head -1 "$TMP/motie.kst")" "$(printf 'kst\t1')"
sum=$(sha256sum "$MOTIE" | cut -d' ' -f1)
size=$(wc -c <"$MOTIE" | tr -d ' ')
check_eq "motion: source record" "$(sed -n 2p "$TMP/motie.kst")" \
	"$(printf 'source\t%s\t1\t%s\t%s' "$size" "$sum" "$MOTIE")"
check_eq "motion: page record" "$(grep '^page' "$TMP/motie.kst")" "$(printf 'page\t1\t558.42\t771.02')"
check_contains "motion: body line" "$TMP/motie.kst" \
	"$(printf '\tUnivers\tconstaterende dat diverse financiële instellingen klanten laten betalen')"
check_contains "motion: title in bold" "$TMP/motie.kst" \
	"$(printf '\tb\tUnivers-Black\tMOTIE VAN DE LEDEN INGE VAN DIJK EN GRINWIS')"
# The margin column (dossier number) and the body column share a baseline;
# poppler glues them into one line, kst-extract must split them.
check_eq "motion: margin column split from body" \
	"$(awk -F'\t' '$1 == "line" && ($11 == "32 545" || $11 == "Wet- en regelgeving financiële markten") { print $2 "," $3 }' "$TMP/motie.kst" | tr '\n' ' ')" \
	"1,36.85 1,202.68 "
check_eq "motion: every line has 11 fields" \
	"$(awk -F'\t' '$1 == "line" && NF != 11' "$TMP/motie.kst" | wc -l | tr -d ' ')" 0

# --- stdin gives the same stream, with "-" as the path
"$EXTRACT" - <"$MOTIE" >"$TMP/stdin.kst"
check_eq "stdin '-': same stream but the path" \
	"$(sed '2s/\t[^\t]*$//' "$TMP/stdin.kst" | cksum)" "$(sed '2s/\t[^\t]*$//' "$TMP/motie.kst" | cksum)"
check_eq "stdin '-': path is -" "$(sed -n 2p "$TMP/stdin.kst" | cut -f5)" "-"
"$EXTRACT" <"$MOTIE" >"$TMP/stdin2.kst"
check "no argument reads stdin" cmp -s "$TMP/stdin.kst" "$TMP/stdin2.kst"

# --- superscript footnote marker in a ministry letter
"$EXTRACT" "$BRIEF" >"$TMP/brief.kst"
LC_ALL=C awk -F'\t' '$1 == "line" { text = $11 }
	$1 == "run" { print substr(text, 1, $2) "|" substr(text, $2 + 1, $3 - $2) "|" $4 "|" $5 "|" $6 "|" $7 }' \
	"$TMP/brief.kst" >"$TMP/runs"
check_eq "letter: one raised run, the marker after draagmoederschap." \
	"$(awk -F'|' '$4 > 1 { n = split($1, w, " "); print w[n] "|" $2 "|" $3 "|" $4 "|" $5 }' "$TMP/runs")" \
	"draagmoederschap.|1|6.00|3.88|-"
check_eq "letter: no year or number in body text is a run" \
	"$(awk -F'|' '$2 ~ /^[0-9]+$/ && $2 != "1"' "$TMP/runs")" ""
check_contains "letter: italic title is an italic run" "$TMP/runs" \
	"|Draagmoederschap en|9.00|0.00|i"
check_contains "letter: 2010 stays in its line" "$TMP/brief.kst" "Op 31 mei 2010 waren er"

# --- a BNC-fiche with 13 footnotes: the raised runs are exactly its markers
"$EXTRACT" "$CORPUS/letters/bnc-fiche-5-mifid-2021.pdf" >"$TMP/bnc.kst"
check_eq "BNC-fiche: raised runs are the 13 markers, in order" \
	"$(LC_ALL=C awk -F'\t' '$1 == "line" { t = $11 } $1 == "run" && $5 > 1 { printf "%s ", substr(t, $2 + 1, $3 - $2) }' "$TMP/bnc.kst")" \
	"1 2 3 4 5 6 7 8 9 10 11 12 13 "
check_contains "BNC-fiche: marker glued to its word as printed" "$TMP/bnc.kst" "kapitaalmarkt.1"

# --- the OCR'd scan: invisible text layer is extracted
"$EXTRACT" "$CORPUS/scanned/tk-motie-35851-71-scan.pdf" >"$TMP/scan.kst"
check_eq "OCR scan: exit 0" "$?" 0
check_contains "OCR scan: text layer" "$TMP/scan.kst" "verzoekt de regering om met een voorstel te komen om wettelijk te"

# --- text normalisation, runs and columns on a hand-made PDF
"$EXTRACT" "$BAD/text.pdf" >"$TMP/text.kst"
check "fixture: whole stream as expected" cmp -s "$TMP/text.kst" tests/expected/extract-text.kst

# --- whole streams of a real letter and a rotated page, pinned: the
# extractor writes its numbers itself, not with printf, and must write the
# same bytes printf's "%.2f" did (the expected files came from the printf
# version). Every number has two decimals, and none is "-0.00".
"$EXTRACT" fixtures/seed-kst-34843-45.pdf >"$TMP/seed.kst"
check "seed letter: whole stream as expected" cmp -s "$TMP/seed.kst" tests/expected/extract-seed.kst
"$EXTRACT" "$BAD/rotated.pdf" >"$TMP/rotated.kst"
check "rotated page: whole stream as expected" cmp -s "$TMP/rotated.kst" tests/expected/extract-rotated.kst
check_eq "numbers: two decimals, never -0.00" "$(cat "$TMP/seed.kst" "$TMP/rotated.kst" \
    "$TMP/bnc.kst" "$TMP/text.kst" | LC_ALL=C awk -F'\t' '
	$1 == "page" { from = 3; to = 4 }
	$1 == "line" { from = 3; to = 8 }
	$1 == "run" { from = 4; to = 5 }
	$1 != "page" && $1 != "line" && $1 != "run" { next }
	{ for (i = from; i <= to; i++)
		if ($i !~ /^-?[0-9]+\.[0-9][0-9]$/ || $i == "-0.00") bad++ }
	END { print bad + 0 }')" 0
check_contains "ligatures expanded, accent composed (NFC)" "$TMP/text.kst" \
	"$(printf '\tEffici\303\253nt en affluent')"
check_contains "zero-width space dropped" "$TMP/text.kst" "$(printf '\tnr. 143 Kamerstuk\n')"
check_contains "soft hyphen kept" "$TMP/text.kst" "$(printf '\tver\302\255')"
check_contains "superscript run: 7pt raised 5pt" "$TMP/text.kst" \
	"$(printf 'departementen2. Sinds 2017 werkt het\nrun\t13\t14\t7.00\t5.06\t-\tHelvetica')"
check_contains "bold-oblique run, subset tag stripped" "$TMP/text.kst" \
	"$(printf 'run\t4\t14\t12.00\t-0.77\tbi\tHelvetica-BoldOblique')"
check_eq "columns on one baseline are two lines" \
	"$(awk -F'\t' '$1 == "line" && $2 == 1 && $11 ~ /^(Links|Rechterkolom)$/' "$TMP/text.kst" | wc -l | tr -d ' ')" 2
check_contains "NUL and surrogate mappings do no harm" "$TMP/text.kst" "$(printf '\tA B\357\277\275CD')"
check_eq "text drawn at size 0 or without width is left out" \
	"$(grep -c 'onzichtbaar\|smal' "$TMP/text.kst")" 0
"$EXTRACT" "$BAD/rotated.pdf" >"$TMP/rotated.kst"
check_eq "rotated page: same lines, runs and rises" \
	"$(grep '^run' "$TMP/rotated.kst" | cksum)" "$(grep '^run' "$TMP/text.kst" | cksum)"
check_contains "rotated page: baseline is an x coordinate" "$TMP/rotated.kst" \
	"$(printf 'line\t1\t697.52\t72.00\t710.03\t309.41\t699.85\t12.00\t-\tHelvetica\tdepartementen2.')"
"$EXTRACT" "$BAD/encrypted-open.pdf" >"$TMP/open.kst"
check_eq "encrypted with empty user password: same text" \
	"$(grep -v '^source' "$TMP/open.kst" | cksum)" "$(grep -v '^source' "$TMP/text.kst" | cksum)"

# --- damaged but readable: converts, and says so
size=$(wc -c <"$MOTIE")
head -c $((size * 9 / 10)) "$MOTIE" >"$TMP/ninety.pdf"
"$EXTRACT" "$TMP/ninety.pdf" >"$TMP/ninety.kst" 2>"$TMP/err"
check_eq "90% of a motion: exit 0" "$?" 0
check_eq "90% of a motion: poppler's complaints kept off stderr" "$(wc -c <"$TMP/err" | tr -d ' ')" 0
check_contains "90% of a motion: text recovered" "$TMP/ninety.kst" "constaterende dat diverse"
check_contains "90% of a motion: truncation warned" "$TMP/ninety.kst" "$(printf 'warn\textract-truncated\t')"

# --- a full disk is an output error, not a silent truncation
if [ -w /dev/full ]; then
	"$EXTRACT" "$MOTIE" >/dev/full 2>"$TMP/err"
	check_eq "/dev/full: exit status 12" "$?" 12
fi

# --- byte-identical output run after run
"$EXTRACT" "$BRIEF" >"$TMP/brief2.kst"
check "same output on a second run" cmp -s "$TMP/brief.kst" "$TMP/brief2.kst"

# --- run offsets stay inside their line and on character boundaries
LC_ALL=C awk -F'\t' '$1 == "line" { n = length($11); t = $11 }
	$1 == "run" && !($2 >= 0 && $2 < $3 && $3 <= n) { print "bad range " $0 }
	$1 == "run" && (substr(t, $2 + 1, 1) ~ /[\200-\277]/ || substr(t, $3 + 1, 1) ~ /[\200-\277]/) { print "mid-char " $0 }' \
	"$TMP/brief.kst" "$TMP/text.kst" "$TMP/scan.kst" >"$TMP/badruns"
check_eq "run offsets valid" "$(cat "$TMP/badruns")" ""

# --- fuzz smoke: cut and bit-flipped corpus PDFs never crash or hang.
# FUZZ_N=500 sh tests/t-extract.sh runs a bigger batch by hand.
# mangle SEED SRC DST: a deterministic mutation of SRC.
mangle() {
	size=$(wc -c <"$2")
	awk -v seed="$1" -v size="$size" 'BEGIN {
		srand(seed); mode = seed % 3
		cut = (mode != 1) ? int(rand() * size) : size
		print "cut", (cut < 1 ? 1 : cut)
		if (mode != 0) for (k = 0; k < 16; k++)
			print "flip", int(rand() * size), int(rand() * 256)
	}' | {
		read -r _ cut
		head -c "$cut" "$2" >"$3"
		while read -r _ off val; do
			[ "$off" -lt "$cut" ] || continue
			printf "\\$(printf %o "$val")" | dd of="$3" bs=1 seek="$off" conv=notrunc 2>/dev/null
		done
	}
}
FUZZ_N=${FUZZ_N:-20}
set -- "$CORPUS"/kst/*.pdf "$CORPUS"/letters/*.pdf "$CORPUS"/scanned/tk-*.pdf "$BAD"/text.pdf
nsrc=$#
failures=0 i=0
while [ "$i" -lt "$FUZZ_N" ]; do
	i=$((i + 1))
	eval "src=\${$(( (i % nsrc) + 1 ))}"
	mangle "$i" "$src" "$TMP/fuzz.pdf"
	timeout 30 "$EXTRACT" "$TMP/fuzz.pdf" >"$TMP/fout" 2>"$TMP/ferr"; st=$?
	echo "$st" >>"$TMP/fstatus"
	case $st in
	0) [ -s "$TMP/fout" ] && [ ! -s "$TMP/ferr" ] && continue ;;
	3|4|5|6|7|8|10) [ ! -s "$TMP/fout" ] && [ "$(wc -l <"$TMP/ferr")" -eq 1 ] && continue ;;
	esac
	failures=$((failures + 1))
	cp "$TMP/fuzz.pdf" "${TMPDIR:-/tmp}/kst-extract-fuzz-$i.pdf"
	echo "# fuzz case $i ($src): exit $st, kept as ${TMPDIR:-/tmp}/kst-extract-fuzz-$i.pdf"
	head -3 "$TMP/ferr" | sed 's/^/# /'
done
echo "# fuzz exit statuses (count status): $(sort -n "$TMP/fstatus" | uniq -c | tr -s ' \n' ' ')"
check_eq "fuzz: $FUZZ_N mangled PDFs, no crash, hang or partial output" "$failures" 0
