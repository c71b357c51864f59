#!/bin/sh
# kst-refs: references tagged through the rules in transformers/rules/refs.rules.
#  1. hand-written streams (tests/expected/refs-*.in): every shape the rules
#     know, and text that must not be tagged (numbers, dates, amounts, "nr. 45",
#     "artikel 52"); the tags, read back as the text they cover, must be
#     tests/expected/refs-*.expected, and the whole output refs-*.out;
#  2. errors and hostile input: a bad rule file, a malformed stream, invalid
#     UTF-8, tags pointing past a block;
#  3. the real chain kst-extract | kst-layout | kst-meta | kst-notes | kst-refs
#     on every document with a gold file: every required gold reference found
#     (a "not ok" line names each one missed), nothing tagged that the gold file
#     does not list, nothing at all in the motions, byte-identical runs.
. tests/lib.sh
REFS=$KST_ROOT/transformers/kst-refs
META=$KST_ROOT/transformers/kst-meta

if [ ! -x "$REFS" ]; then
	fail "kst-refs not built in $KST_ROOT"
	exit 0
fi

# The verwijzing tags of stream $1 (the output of kst-refs), one a line, as
# "RULE<TAB>ATTRS<TAB>[covered text]": what a person checks.
readable() {
	grep '^tag	.*	verwijzing	' "$1" | while IFS='	' read -r _ blk start end _ attrs rule; do
		text=$(grep "^block	$blk	" "$1" | head -1 | cut -f6)
		printf '%s\t%s\t[%s]\n' "$rule" "$attrs" \
		    "$(printf '%s' "$text" | head -c "$end" | tail -c +"$((start + 1))")"
	done
}

# ---------------------------------------------------------------- 1. hand-written streams
for in in tests/expected/refs-*.in; do
	name=$(basename "$in" .in)
	if ! "$REFS" "$in" >"$TMP/$name.out" 2>"$TMP/$name.err"; then
		fail "$name: kst-refs failed: $(cat "$TMP/$name.err")"
		continue
	fi
	readable "$TMP/$name.out" >"$TMP/$name.readable"
	if cmp -s "$TMP/$name.readable" "tests/expected/$name.expected"; then
		ok "$name: references as expected ($(wc -l <"$TMP/$name.readable") tags)"
	else
		fail "$name: references differ"
		diff "tests/expected/$name.expected" "$TMP/$name.readable" | sed 's/^/# /'
	fi
	if cmp -s "$TMP/$name.out" "tests/expected/$name.out"; then
		ok "$name: output byte-identical to tests/expected/$name.out"
	else
		fail "$name: output differs from tests/expected/$name.out"
	fi
	grep -v '^tag	.*	verwijzing	' "$TMP/$name.out" >"$TMP/$name.rest"
	if cmp -s "$TMP/$name.rest" "$in"; then
		ok "$name: every other record passed through unchanged, in order"
	else
		fail "$name: other records changed"
	fi
	check_eq "$name: stderr quiet" "$(cat "$TMP/$name.err")" ""
done

# Spot checks on the cases named in the brief.
tagged() { grep -c -F -- "$2" "$TMP/$1.readable"; }
check_eq "Kamerstukken 28 345 en 31 015, nr. 286 -> two references" \
	"$(grep -c 'parlId=kst-28345-286\|parlId=kst-31015-286' "$TMP/refs-shapes.readable")" 2
check_eq "21 501-02, nr. 1234 -> kst-21501-02-1234" "$(tagged refs-shapes 'parlId=kst-21501-02-1234	[21 501-02, nr. 1234]')" 1
check_eq "35 570 VIII -> kst-35570-VIII-91" "$(tagged refs-shapes 'parlId=kst-35570-VIII-91	[Kamerstuk 35 570 VIII, nr. 91]')" 2
check_eq "Handelingen II 2020/21, nr. 45, item 12 -> h-tk-20202021-45-12" \
	"$(tagged refs-shapes 'handelingen=h-tk-20202021-45-12')" 1
check_eq "a sentence's full stop and a closing parenthesis are not part of a URL" \
	"$(tagged refs-shapes 'url=https://www.poraad.nl/nieuws/a-b_(c)/d.pdf	[https://www.poraad.nl/nieuws/a-b_(c)/d.pdf]')" 1
check_eq "a footnote's printed number is not part of the dossier" \
	"$(tagged refs-shapes 'parlId=kst-31015-202	[31 015, nr. 202]')" 1
check_eq "a tag stops at a footnote marker glued to a number" \
	"$(tagged refs-shapes 'parlId=kst-31015-202	[Kamerstuk 31 015, nr. 202]')" 1
check_eq "an e-mail address is no URL" "$(tagged refs-shapes 'minvws')" 0
check_eq "furniture (the running head) is not tagged" "$(tagged refs-shapes '34843-45')" 0
check_eq "numbers, dates, amounts, articles, 'nr. 45', 'Wet-': nothing tagged" \
	"$(wc -l <"$TMP/refs-negative.readable" | tr -d ' ')" 0

printf 'kst\t1\nblock\t1\tal\t1\t-\tZie Kamerstuk 31 015, nr. 2021 voor meer.\ntag\t1\t29\t30\tsup\tsize=5.40&rise=3.27\tlayout:superscript\n' >"$TMP/sup.in"
check_eq "a raised run kst-notes did not link still ends a reference" \
	"$("$REFS" "$TMP/sup.in" | grep verwijzing)" \
	"$(printf 'tag\t1\t4\t29\tverwijzing\ttype=kamerstuk&parlId=kst-31015-202\trefs:kamerstuk')"

# ---------------------------------------------------------------- 2. errors, hostile input
check_status "--help exits 0" 0 "$REFS" --help
check_status "--version exits 0" 0 "$REFS" --version
check_status "unknown option: usage error" 2 "$REFS" -x
check_status "missing input file: exit 3" 3 "$REFS" "$TMP/nonexistent"
printf 'rule broken verwijzing\n\tmatch (unclosed\n' >"$TMP/bad.rules"
check_status "bad user rule file: exit 11" 11 "$REFS" -r "$TMP/bad.rules" tests/expected/refs-shapes.in
"$REFS" -r "$TMP/bad.rules" tests/expected/refs-shapes.in >"$TMP/badrules.out" 2>"$TMP/badrules.err"
check_eq "bad rule file: one line naming file and line on stderr" \
	"$(wc -l <"$TMP/badrules.err" | tr -d ' '):$(grep -c 'bad.rules:1:' "$TMP/badrules.err")" "1:1"
check_eq "bad rule file: no output" "$(wc -c <"$TMP/badrules.out" | tr -d ' ')" 0
printf 'rule mijn-dossier verwijzing\n\ttype kamerstuk\n\tparlId kst-${d}-${n}\n\tmatch \\bdossier (?<d>\\d{5}) stuk (?<n>\\d+)\n' >"$TMP/user.rules"
printf 'kst\t1\nblock\t1\tal\t1\t-\tZie dossier 36200 stuk 7.\n' >"$TMP/user.in"
check_eq "a user's own rule (-r) tags too" \
	"$("$REFS" -r "$TMP/user.rules" "$TMP/user.in" | grep verwijzing)" \
	"$(printf 'tag\t1\t4\t24\tverwijzing\ttype=kamerstuk&parlId=kst-36200-7\trefs:mijn-dossier')"
# need words (docs/rules.md): found in any case; not an attribute of the tag;
# a stretch without them is not scanned, one with them is.
printf 'rule mijn-dossier verwijzing\n\tneed dossier\n\ttype kamerstuk\n\tparlId kst-${d}-${n}\n\tmatch (?i)\\bdossier (?<d>\\d{5}) stuk (?<n>\\d+)\n' >"$TMP/need.rules"
printf 'kst\t1\nblock\t1\tal\t1\t-\tZie DOSSIER 36200 stuk 7.\nblock\t2\tal\t1\t-\tZie map 36200 stuk 7.\n' >"$TMP/need.in"
check_eq "need: a user's rule with need words tags in any case, and only that" \
	"$("$REFS" -r "$TMP/need.rules" "$TMP/need.in" | grep verwijzing)" \
	"$(printf 'tag\t1\t4\t24\tverwijzing\ttype=kamerstuk&parlId=kst-36200-7\trefs:mijn-dossier')"
printf 'rule x verwijzing\n\tneed Dossier\n\tmatch dossier\n' >"$TMP/need.rules"
check_status "need: a capital in a need word is a rule file error (exit 11)" 11 \
	"$REFS" -r "$TMP/need.rules" tests/expected/refs-shapes.in
printf 'kst\t1\nblock\t1\tal\t1\t-\tKamerstuk 31 015, nr. 202\nbroken\\q\n' >"$TMP/malformed.in"
"$REFS" "$TMP/malformed.in" >"$TMP/malformed.out" 2>"$TMP/malformed.err"; st=$?
check_eq "malformed stream: exit 9, nothing on stdout" "$st:$(wc -c <"$TMP/malformed.out" | tr -d ' ')" "9:0"
printf 'kst\t1\nblock\t1\tal\t1\t-\tKamerstuk 31 015, nr. 202 \377\376 www.x.nl\ntag\t1\t5\t999999\tnootref\tnoot=n1\tx\ntag\t7\t0\t3\tnoot\t-\tx\n' >"$TMP/hostile.in"
check_status "invalid UTF-8 and tags past the text: no crash" 0 "$REFS" "$TMP/hostile.in"
printf 'kst\t1\nblock\t1\tal\t1\t-\tKamerstuk 31 015, nr. 202\ntag\t1\t12\t999999\tnootref\tnoot=n1\tx\n' >"$TMP/past.in"
check_eq "a nootref tag running past the text cuts, never reads past it" \
	"$("$REFS" "$TMP/past.in" | grep -c verwijzing)" 0

# ---------------------------------------------------------------- 3. the real chain
if [ ! -x "$EXTRACT" ] || [ ! -x "$LAYOUT" ] || [ ! -x "$META" ] || [ ! -x "$NOTES" ]; then
	fail "the chain up to kst-notes is not built in $KST_ROOT"
	exit 0
fi
chain() { "$EXTRACT" "$1" | "$LAYOUT" | "$META" | "$NOTES" | "$REFS"; }

# real NAME PDF GOLD: every required "ref" of GOLD tagged; every tag listed
# in GOLD (required or optional). Identifiers compared as tests/eval.py does.
real() {
	name=$1 pdf=$2 gold=$3
	if [ ! -f "$pdf" ] || [ ! -f "$gold" ]; then
		fail "$name: $pdf or $gold missing"
		return
	fi
	chain "$pdf" >"$TMP/$name.kst" 2>"$TMP/$name.err" || { fail "$name: chain failed: $(cat "$TMP/$name.err")"; return; }
	readable "$TMP/$name.kst" >"$TMP/$name.readable"
	python3 - "$gold" "$TMP/$name.readable" "$name" <<'PY'
import re, sys, unicodedata, urllib.parse
def norm(s):
    s = "".join(unicodedata.normalize("NFC", s).split()).casefold()
    s = re.sub(r"^[a-z]+://", "", s)
    s = re.sub(r"^www\.", "", s)
    return s.rstrip("./")
required, optional = {}, set()
for line in open(sys.argv[1], encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 3 and f[0] in ("ref", "ref?"):
        (optional.add(norm(f[2])) if f[0] == "ref?" else required.setdefault(norm(f[2]), f[1] + " " + f[2]))
found, extra = set(), []
for line in open(sys.argv[2], encoding="utf-8"):
    rule, attrs, text = line.rstrip("\n").split("\t", 2)
    ids = {norm(urllib.parse.unquote(kv.split("=", 1)[1])) for kv in attrs.split("&") if not kv.startswith("type=")}
    ids.add(norm(text[1:-1]))
    hit = ids & (set(required) | optional)
    found |= hit
    if not hit:
        extra.append("%s %s" % (rule, text))
name = sys.argv[3]
missed = [v for k, v in sorted(required.items()) if k not in found]
for m in missed:
    print("not ok - %s: gold reference not found: %s" % (name, m))
if not missed:
    print("ok - %s: all %d required gold references found" % (name, len(required)))
for e in extra:
    print("not ok - %s: tagged but not in the gold file: %s" % (name, e))
if not extra:
    print("ok - %s: nothing tagged that the gold file does not list" % name)
PY
	chain "$pdf" >"$TMP/$name.again" 2>/dev/null
	if cmp -s "$TMP/$name.kst" "$TMP/$name.again"; then
		ok "$name: byte-identical output run after run"
	else
		fail "$name: output differs between runs"
	fi
}
real seed fixtures/seed-kst-34843-45.pdf "$CORPUS/seed/kst-34843-45.gold.tsv"
real draagmoederschap "$CORPUS/letters/kamerbrief-2011-03-01-draagmoederschap.pdf" \
	"$CORPUS/letters/kamerbrief-2011-03-01-draagmoederschap.gold.tsv"
real bnc-fiche "$CORPUS/letters/bnc-fiche-5-mifid-2021.pdf" \
	"$CORPUS/letters/bnc-fiche-5-mifid-2021.gold.tsv"

# The official prints: the motions cite nothing; the answers cite one
# Staatsblad, which the official XML links as stb-2020-118.
for pdf in "$CORPUS/kst/kst-32545-143.pdf" "$CORPUS/kst/kst-28286-1366.pdf" \
    "$CORPUS/scanned/tk-motie-35851-71-scan.pdf"; do
	name=$(basename "$pdf" .pdf)
	chain "$pdf" >"$TMP/$name.kst" 2>/dev/null
	check_eq "$name: a motion cites nothing: no references" \
		"$(grep -c '	verwijzing	' "$TMP/$name.kst")" 0
done
chain "$CORPUS/kst/ah-tk-20202021-3235.pdf" >"$TMP/ah.kst" 2>/dev/null
readable "$TMP/ah.kst" >"$TMP/ah.readable"
check_eq "ah-tk-20202021-3235: Staatsblad 2020, 118 and nothing else" "$(cat "$TMP/ah.readable")" \
	"$(printf 'refs:staatsblad\ttype=staatsblad&stb=stb-2020-118\t[Staatsblad 2020, 118]')"

# A hostile block: a megabyte-long paragraph. kst-refs searches long stretches
# a window at a time (rule_next checks UTF-8 to the subject's end on every
# call: quadratic otherwise); the tags must be those of the short text, times.
one=$(grep '^block	[0-9]*	al	' tests/expected/refs-shapes.in | grep -v 'nr. 2021\|nl3 ' | cut -f6 | tr '\n' ' ')
printf 'kst\t1\nblock\t1\tal\t1\t-\t%s\n' "$one" >"$TMP/one.in"
awk -v t="$one" 'BEGIN { printf "kst\t1\nblock\t1\tal\t1\t-\t"; for (i = 0; i < 300; i++) printf "%s", t; printf "\n" }' >"$TMP/long.in"
n1=$("$REFS" "$TMP/one.in" | grep -c '	verwijzing	')
"$REFS" "$TMP/long.in" >"$TMP/long.out"
check_eq "a 370 KB paragraph: every reference of the short text, 300 times" \
	"$(grep -c '	verwijzing	' "$TMP/long.out")" "$((n1 * 300))"
check_eq "a 370 KB paragraph: the same rules and identifiers as the short text" \
	"$(grep '	verwijzing	' "$TMP/long.out" | cut -f6,7 | sort -u)" \
	"$("$REFS" "$TMP/one.in" | grep '	verwijzing	' | cut -f6,7 | sort -u)"
awk 'BEGIN { printf "kst\t1\nblock\t1\tal\t1\t-\t"; for (i = 0; i < 150000; i++) printf "cbs.nl "; printf "\n" }' >"$TMP/many.in"
check_eq "a megabyte of 'cbs.nl ': 150000 tags, in seconds" \
	"$("$REFS" "$TMP/many.in" | grep -c '	verwijzing	')" 150000
