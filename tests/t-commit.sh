#!/bin/sh
# Tests for transformers/kst-commit (commitments and their fulfilment):
#  1. hand-written streams tests/expected/commit-*.in, one sentence a block:
#     every cue shape (commit-cues), sentences a person would not call the
#     government's commitment (commit-neg), sentence splitting around
#     abbreviations, initials, numbers and footnote markers (commit-split);
#     exact expected output in commit-*.out;
#  2. interface and hostile input;
#  3. the real chain on the gold documents: every required gold `tz` found
#     with the right kind; motions, answers to questions and a BNC-fiche
#     checked for what a person would not accept.
. tests/lib.sh
META=$KST_ROOT/transformers/kst-meta
REFS=$KST_ROOT/transformers/kst-refs
COMMIT=$KST_ROOT/transformers/kst-commit
EXP=tests/expected

if [ ! -x "$COMMIT" ]; then
	fail "kst-commit not built in $KST_ROOT"
	exit 0
fi

# The commitment tags of a stream with the sentence they cover.
show() { show_tags "toezegging nakoming" " " "$@"; }
ours() { LC_ALL=C grep -P '^tag\t[^\t]*\t[^\t]*\t[^\t]*\t(toezegging|nakoming)\t' "$@"; }

# ---------------------------------------------------------------- 1. hand-written streams
for in in $EXP/commit-*.in; do
	name=$(basename "$in" .in)
	if ! "$COMMIT" "$in" >"$TMP/$name.out" 2>"$TMP/$name.err"; then
		fail "$name: kst-commit failed: $(cat "$TMP/$name.err")"
		continue
	fi
	if cmp -s "$TMP/$name.out" "$EXP/$name.out"; then
		ok "$name: output as expected ($(ours "$TMP/$name.out" | wc -l | tr -d ' ') commitment tags)"
	else
		fail "$name: output differs from $EXP/$name.out"
		diff "$EXP/$name.out" "$TMP/$name.out" | sed 's/^/# /'
	fi
	ours -v "$TMP/$name.out" >"$TMP/$name.rest"
	if cmp -s "$TMP/$name.rest" "$in"; then
		ok "$name: every other record passed through unchanged, in order"
	else
		fail "$name: other records changed"
	fi
	check_eq "$name: stderr quiet" "$(cat "$TMP/$name.err")" ""
done

# Every body block of commit-cues holds one commitment of the kind its cue
# says; blocks 1-4 and 26 are fulfilments.
show "$TMP/commit-cues.out" >"$TMP/cues.show"
blocks=$(grep -c '^block	[0-9]*	\(al\|li\)	' $EXP/commit-cues.in)
check_eq "commit-cues: one tag a block" "$(cut -f1 "$TMP/cues.show" | sort -u | wc -l | tr -d ' ')" "$blocks"
check_eq "commit-cues: fulfilments are nakoming, the rest toezegging" \
	"$(awk -F'\t' '$2 == "nakoming" { printf "%s ", $1 }' "$TMP/cues.show")" \
	"1 2 3 4 26 "
check_eq "commit-cues: as many toezegging tags as other blocks" \
	"$(grep -c '	toezegging	' "$TMP/cues.show")" "$((blocks - 5))"
while IFS='	' read -r blk kind attrs rule sentence; do
	ok "commit-cues: $kind by $rule: $sentence"
done <"$TMP/cues.show"
# What a person checks in the attributes.
field() { grep "^$2	" "$TMP/$1.show" | cut -f3; }
check_eq "nakoming: date of the earlier promise as printed and as ISO date" \
	"$(field cues 1)" "actor=de Minister van Onderwijs, Cultuur en Wetenschap&termijn=5 november 2020&datum=2020-11-05"
check_eq "actor as printed: de Minister van SZW; deadline vóór de zomer" \
	"$(field cues 5)" "actor=de Minister van SZW&termijn=vóór de zomer"
check_eq "first person resolved to the signatory's functie" \
	"$(field cues 6)" "actor=de Minister van Onderwijs, Cultuur en Wetenschap"
check_eq "deadline eind maart/begin april" \
	"$(field cues 8 | sed 's/.*termijn=//')" "eind maart/begin april"
check_eq "deadline voor 1 juli 2022 normalised" \
	"$(field cues 24 | sed 's/.*&termijn=//')" "voor 1 juli 2022&datum=2022-07-01"

show "$TMP/commit-neg.out" >"$TMP/neg.show"
LC_ALL=C awk -F'\t' '$1 == "block" { print $2 "\t" $6 }' $EXP/commit-neg.in |
while IFS='	' read -r blk text; do
	if cut -f1 "$TMP/neg.show" | grep -qx "$blk"; then
		fail "commit-neg: tagged although no commitment: $text"
	else
		ok "commit-neg: not tagged: $text"
	fi
done

show "$TMP/commit-split.out" >"$TMP/split.show"
check_eq "split: abbreviations and initials do not end a sentence" \
	"$(field split 1 | sed 's/&.*//'; grep '^1	' "$TMP/split.show" | cut -f5)" \
	"actor=de Minister van Onderwijs, Cultuur en Wetenschap
[Ik zal u voor de zomer informeren.]"
check_eq "split: a year before the stop ends the sentence" \
	"$(grep '^2	' "$TMP/split.show" | cut -f5)" "[Ik zal uw Kamer in het najaar informeren over de monitor 2019–2020.]"
check_eq "split: footnote marker glued to a year, before the stop" \
	"$(grep '^3	' "$TMP/split.show" | cut -f5)" \
	"[Hiermee kom ik de toezegging na die ik op 5 november 2020 heb gedaan tijdens het VSO 2017–20181 .]"
check_eq "split: footnote markers after the stop are outside the sentence" \
	"$(grep '^4	' "$TMP/split.show" | cut -f5)" "[De Kamer wordt in het najaar geïnformeerd over de vervolgstappen.]"
check_eq "split: initials before a capital, a sentence ending in 'al.'" \
	"$(grep '^6	' "$TMP/split.show" | cut -f5)" "[Ik zal u informeren.]
[Ik zal u voor de zomer informeren.]"
check_eq "split: a sentence over a line break" \
	"$(grep '^5	' "$TMP/split.show" | cut -f5)" "[Ik zal uw Kamer voor de zomer informeren.]"

# A reported promise is a fulfilment when the next sentence says this letter
# keeps it, also across a paragraph (and a page break), not across a heading.
show "$TMP/commit-context.out" >"$TMP/context.show"
check_eq "context: 'heb ik toegezegd' + next paragraph 'Met deze brief doe ik dat'" \
	"$(grep '^1	' "$TMP/context.show" | cut -f2,4)" "nakoming	commit:toegezegd-vervolg"
check_eq "context: not across a heading, not without a fulfilment" \
	"$(cut -f1 "$TMP/context.show" | tr '\n' ' ')" "1 3 "
if [ -x "$TOXML" ] && [ -x "$VALIDATE" ]; then
	"$TOXML" "$TMP/commit-context.out" >"$TMP/context.xml" 2>/dev/null
	check "context: tags written after a later block still make valid XML" \
		"$VALIDATE" "$TMP/context.xml"
	check_eq "context: the XML lists the fulfilment first, in reading order" \
		"$(grep -o '<\(nakoming\|toezegging\) pagina="[0-9]*"' "$TMP/context.xml" | tr '\n' ' ')" \
		'<nakoming pagina="1" <toezegging pagina="2" '
fi

# Answers to written questions: the question under "Vraag 1" is not the
# government's, the answer under "Antwoord 1" is; a refusal is no promise.
show "$TMP/commit-vragen.out" >"$TMP/vragen.show"
check_eq "vragen: only the answer's promise is tagged" \
	"$(cut -f1,5 "$TMP/vragen.show")" \
	"5	[Ik zal uw Kamer voor de zomer informeren over de evaluatie van de TOZO.]"
# A motion (documentsoort Motie) is the Kamer speaking: nothing is tagged,
# not even a quoted promise.
check_eq "motie: nothing tagged in a motion" "$(show "$TMP/commit-motie.out" | wc -l | tr -d ' ')" 0

# ---------------------------------------------------------------- 2. interface
check "--help exits 0" "$COMMIT" --help
check "--version exits 0" "$COMMIT" --version
check_status "unknown option is a usage error" 2 "$COMMIT" --frobnicate
check_status "missing file: exit 3" 3 "$COMMIT" "$TMP/nonexistent"
"$COMMIT" "$TMP/nonexistent" >"$TMP/o" 2>"$TMP/e"
check_eq "missing file: nothing on stdout, one line on stderr" \
	"$(wc -c <"$TMP/o" | tr -d ' ') $(wc -l <"$TMP/e" | tr -d ' ')" "0 1"
printf 'kst\t1\nblock\t1\tal\t1\t-\tIk zal u voor de zomer informeren.\nblock\t2\tal' >"$TMP/trunc"
check_status "truncated stream: exit 9" 9 "$COMMIT" "$TMP/trunc"
"$COMMIT" "$TMP/trunc" >"$TMP/o" 2>/dev/null
check_eq "truncated stream: no partial output" "$(wc -c <"$TMP/o" | tr -d ' ')" 0
printf 'rule kapot toezegging\n\tmatch (unclosed\n' >"$TMP/bad.rules"
check_status "broken rule file: exit 11" 11 "$COMMIT" -r "$TMP/bad.rules" $EXP/commit-cues.in
printf '# a user cue\nrule belofte toezegging\n\tactor ik\n\tmatch \\bIk beloof\\b\n' >"$TMP/user.rules"
printf 'kst\t1\nblock\t1\tal\t1\t-\tIk beloof u een brief. Daarna niets.\n' >"$TMP/user.in"
# No signatory in the stream: "ik" stays "ik".
check_eq "-r: a user's rule file adds a cue" \
	"$("$COMMIT" -r "$TMP/user.rules" "$TMP/user.in" | ours | cut -f2-)" \
	"1	0	22	toezegging	actor=ik	commit:belofte"
# "need": a rule is run only on a sentence holding one of its need words, in
# any case; a sentence with the long s or the Kelvin sign (which (?i) folds to
# s and k, ASCII lower-casing does not) goes to every rule.
printf 'rule belofte toezegging\n\tactor ik\n\tneed beloof\n\tmatch (?i)\\bIk beloof\\b\n' >"$TMP/need.rules"
printf 'kst\t1\nblock\t1\tal\t1\t-\tIK BELOOF u een brief.\n' >"$TMP/need.in"
check_eq "need: a need word is found in any case" \
	"$("$COMMIT" -r "$TMP/need.rules" "$TMP/need.in" | ours | cut -f2-)" \
	"1	0	22	toezegging	actor=ik	commit:belofte"
printf 'rule stuur toezegging\n\tactor ik\n\tneed stuur\n\tmatch (?i)\\bik stuur\\b\n' >"$TMP/need.rules"
printf 'kst\t1\nblock\t1\tal\t1\t-\tIk \305\277tuur u een brief.\n' >"$TMP/need.in"
check_eq "need: a long s still reaches the rule" \
	"$("$COMMIT" -r "$TMP/need.rules" "$TMP/need.in" | ours | cut -f2-)" \
	"1	0	22	toezegging	actor=ik	commit:stuur"
printf 'rule kapot toezegging\n\tneed Stuur\n\tmatch stuur\n' >"$TMP/need.rules"
check_status "need: a word not in lower-case ASCII is a rule file error (exit 11)" 11 \
	"$COMMIT" -r "$TMP/need.rules" $EXP/commit-cues.in
cat "$EXP/commit-cues.in" | "$COMMIT" >"$TMP/stdin.out" 2>/dev/null
check "reads standard input" cmp -s "$TMP/stdin.out" "$EXP/commit-cues.out"

# Hostile input: invalid UTF-8, a NUL-free binary mess, tags pointing outside
# their block, an empty text, a huge block: no crash, the stream passes.
{
	printf 'kst\t1\n'
	printf 'block\t1\tal\t1\t-\tIk zal u \377\376 voor de zomer informeren. \300\n'
	printf 'tag\t1\t5\t999\tnootref\tnoot=n1\tnotes:x\n'
	printf 'tag\t1\t-3\t2\tnootref\tnoot=n1\tnotes:x\n'
	printf 'block\t2\tal\t1\t-\t\n'
	printf 'block\t3\tli\t1\t-\t. . . ? ! ...\n'
	printf 'tag\t3\t0\t1\tnootref\t-\tnotes:x\n'
	printf 'block\t4\tal\t1\t-\t'
	i=0; while [ $i -lt 2000 ]; do printf 'Ik zal u informeren over nr. 5 en art. 3. '; i=$((i + 1)); done
	printf '\n'
} >"$TMP/hostile.in"
"$COMMIT" "$TMP/hostile.in" >"$TMP/hostile.out" 2>"$TMP/hostile.err"; st=$?
check_eq "hostile input: exit 0, stderr quiet" "$st $(wc -c <"$TMP/hostile.err" | tr -d ' ')" "0 0"
check_eq "hostile input: every record passed on" \
	"$(ours -v "$TMP/hostile.out" | cmp - "$TMP/hostile.in" && echo same)" "same"
check_eq "hostile input: the long block's sentences tagged one by one" \
	"$(ours "$TMP/hostile.out" | grep -c '^tag	4	')" 2000

# ---------------------------------------------------------------- 3. the real chain
chain() {	# PDF -> stream after kst-commit
	if [ -x "$REFS" ]; then
		"$EXTRACT" "$1" | "$LAYOUT" | "$META" | "$NOTES" | "$REFS" | "$COMMIT"
	else
		"$EXTRACT" "$1" | "$LAYOUT" | "$META" | "$NOTES" | "$COMMIT"
	fi
}

# Every required gold tz line found, with its kind: a tag whose sentence
# (footnote markers left out, white space collapsed, case folded) holds the
# phrase. Optional (tz?) lines are reported, not required.
gold_check() {	# NAME STREAM GOLD
	show "$2" >"$TMP/$1.show"
	python3 - "$1" "$TMP/$1.show" "$3" <<'EOF'
import sys, unicodedata
name, shown, gold = sys.argv[1:4]
def norm(s):
    return " ".join(unicodedata.normalize("NFC", s).split()).casefold()
tags = []
for line in open(shown, encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    tags.append((f[1], norm(f[4][1:-1])))
for line in open(gold, encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if not f[0].startswith("tz"):
        continue
    kind, phrase = f[1], norm(f[2])
    kinds = [k for k, s in tags if phrase in s]
    if f[0] == "tz?":
        print("ok - %s: optional tz %s %s: %s" % (name, kind, f[2], kinds[0] if kinds else "not tagged"))
    elif not kinds:
        print("not ok - %s: gold tz %s missed: %s" % (name, kind, f[2]))
    elif kind not in kinds:
        print("not ok - %s: gold tz %s tagged as %s: %s" % (name, kind, kinds[0], f[2]))
    else:
        print("ok - %s: gold tz %s found: %s" % (name, kind, f[2]))
EOF
}

if [ -x "$EXTRACT" ] && [ -x "$LAYOUT" ] && [ -x "$META" ] && [ -x "$NOTES" ]; then
	for pair in "fixtures/seed-kst-34843-45.pdf $CORPUS/seed/kst-34843-45.gold.tsv" \
	    "$CORPUS/letters/kamerbrief-2011-03-01-draagmoederschap.pdf $CORPUS/letters/kamerbrief-2011-03-01-draagmoederschap.gold.tsv"; do
		set -- $pair
		name=$(basename "$1" .pdf)
		if [ ! -f "$1" ] || [ ! -f "$2" ]; then
			fail "$name: input or gold file missing"
			continue
		fi
		chain "$1" >"$TMP/$name.kst" 2>"$TMP/$name.err"
		gold_check "$name" "$TMP/$name.kst" "$2"
		chain "$1" >"$TMP/$name.kst2" 2>/dev/null
		check "$name: byte-identical output run after run" cmp -s "$TMP/$name.kst" "$TMP/$name.kst2"
		# Precision: nothing tagged that the gold file does not list.
		extra=$(python3 - "$TMP/$name.show" "$2" <<'EOF'
import sys, unicodedata
def norm(s):
    return " ".join(unicodedata.normalize("NFC", s).split()).casefold()
phrases = [norm(l.split("\t")[2]) for l in open(sys.argv[2], encoding="utf-8")
           if l.startswith("tz")]
for line in open(sys.argv[1], encoding="utf-8"):
    s = norm(line.rstrip("\n").split("\t")[4])
    if not any(p in s for p in phrases):
        print(s)
EOF
)
		check_eq "$name: every tagged sentence is in the gold file" "$extra" ""
	done
	check_eq "seed: first person resolved, earlier promise dated" \
		"$(ours "$TMP/seed-kst-34843-45.kst" | head -1 | cut -f6)" \
		"actor=de Staatssecretaris Volksgezondheid, Welzijn en Sport&termijn=5 november 2020&datum=2020-11-05"
	# Motions, answers to questions, a BNC-fiche: a motion asks, a question
	# asks, the answers and the fiche state positions, promise nothing to
	# the Kamer.
	for pdf in "$CORPUS"/kst/*.pdf "$CORPUS"/scanned/tk-motie-35851-71-scan.pdf \
	    "$CORPUS"/letters/bnc-fiche-5-mifid-2021.pdf; do
		[ -f "$pdf" ] || continue
		name=$(basename "$pdf" .pdf)
		chain "$pdf" >"$TMP/$name.kst" 2>/dev/null
		n=$(ours "$TMP/$name.kst" | wc -l | tr -d ' ')
		check_eq "$name: no commitment tagged" "$n" 0
		[ "$n" -eq 0 ] || show "$TMP/$name.kst" | sed 's/^/# /'
	done
else
	fail "earlier stages not built in $KST_ROOT: real chain not tested"
fi
