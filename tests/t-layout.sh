#!/bin/sh
# kst-layout: blocks, furniture, footnotes, lists and dehyphenation, on
# hand-written streams and on the corpus (through kst-extract).
. tests/lib.sh
EXP=tests/expected
SIM=tests/similarity.py

# body text of a layout stream: what would end up in <inhoud>
body() {
	awk -F'\t' '$1 == "block" && ($3 == "al" || $3 == "kop" || $3 == "li" ||
	    $3 == "aanhef" || $3 == "slotformulering" || $3 == "ondertekening") {
		gsub(/\\n/, "\n", $6); print $6 }' "$1"
}
# text of blocks of one kind
kind() { awk -F'\t' -v k="$2" '$1 == "block" && $3 == k { print $6 }' "$1"; }
# "why<TAB>text" of furniture blocks
furniture() { awk -F'\t' '$1 == "block" && $3 == "furniture" { print $5 "\t" $6 }' "$1"; }

# ---------------------------------------------------------------- basics
check "--help exits 0" "$LAYOUT" --help
check "--version exits 0" "$LAYOUT" --version
check_status "bad option is a usage error" 2 "$LAYOUT" --bogus
printf 'kst\t1\nline\t1\n' > "$TMP/bad.st"
check_status "malformed line record is a stream error" 9 "$LAYOUT" "$TMP/bad.st"
"$LAYOUT" "$TMP/bad.st" > "$TMP/bad.out" 2>/dev/null
check_eq "no partial output on a stream error" "$(wc -c < "$TMP/bad.out" | tr -d ' ')" 0
printf 'kst\t1\npage\t1\t595\t842\nline\t1\t1\t1\t2\t2\t2\t9\t-\tF\tx\nrun\t0\t9\t1\t1\t-\tF\n' > "$TMP/run.st"
check_status "run outside its line is a stream error" 9 "$LAYOUT" "$TMP/run.st"
printf 'kst\t1\npage\t2\t595\t842\npage\t1\t595\t842\n' > "$TMP/order.st"
check_status "pages out of order are a stream error" 9 "$LAYOUT" "$TMP/order.st"
# hostile: 20 000 pieces on one row and one text repeated in every zone
awk 'BEGIN { print "kst\t1"; for (p = 1; p <= 3; p++) print "page\t" p "\t595\t842";
	for (i = 0; i < 20000; i++) print "line\t1\t100\t5\t500\t14\t12\t9\t-\tF\tsame text";
	for (i = 0; i < 5000; i++) print "line\t" (i % 3 + 1) "\t100\t" (800 + i % 30) "\t500\t" (809 + i % 30) "\t807\t9\t-\tF\tvoet " i }' > "$TMP/big.st"
check "20 000 lines on one row and 5 000 footers finish in 10 s" timeout 10 "$LAYOUT" "$TMP/big.st"
printf 'kst\t1\nsource\t1\t0\tx\ty\nmystery\tkeep me\n' > "$TMP/pass.st"
"$LAYOUT" < "$TMP/pass.st" > "$TMP/pass.out" 2>&1
check_eq "unknown records pass through unchanged" "$(cat "$TMP/pass.out")" "$(cat "$TMP/pass.st")"

# -------------------------------------------------------- dehyphenation
"$LAYOUT" "$EXP/layout-hyphen.in" > "$TMP/hy.out"
check "hyphen stream output as expected" cmp -s "$TMP/hy.out" "$EXP/layout-hyphen.out"
t=$(kind "$TMP/hy.out" al)
for want in "Werkgelegenheid" "daderschap" "Basis- en Voortgezet" "slachtoffer- en daderschap" \
    "zorg- en welzijnsbeleid" "ICT-beleid" "e-learning" "otc-derivaten" \
    "https://www.rijksoverheid.nl/documenten/kamer-stukken/2021/02/04/brief" "interdepartementale"; do
	case $t in
	*"$want"*) ok "dehyphenation: $want" ;;
	*) fail "dehyphenation: $want not in [$t]" ;;
	esac
done
check_eq "hyphenated paragraph is one block" "$(kind "$TMP/hy.out" al | wc -l | tr -d ' ')" 1
KST_DICT=/nonexistent "$LAYOUT" "$EXP/layout-hyphen.in" > "$TMP/nodict.out"
check_contains "missing word list gives a warn record" "$TMP/nodict.out" "warn	layout-dict	"
t=$(kind "$TMP/nodict.out" al)
case $t in
*Werkgelegenheid*ICT-beleid*e-learning*) ok "without the word list the rules still hold" ;;
*) fail "without the word list: [$t]" ;;
esac

# ---------------------------------------------- lists, notes, furniture
"$LAYOUT" "$EXP/layout-struct.in" > "$TMP/st.out"
check "structure stream output as expected" cmp -s "$TMP/st.out" "$EXP/layout-struct.out"
check_eq "numbered bold line is a kop" \
    "$(awk -F'\t' '$3 == "kop" { print $5 "|" $6 }' "$TMP/st.out")" "level=1|1. Aanleiding"
check_eq "dash and dingbat bullets nest" \
    "$(awk -F'\t' '$3 == "li" { print $5 }' "$TMP/st.out" | tr '\n' ' ')" \
    "level=1&marker=– level=1&marker=– level=2&marker=• level=2&marker=• "
check_contains "bullet item continuation joined" "$TMP/st.out" "seksueel geweld;"
check_eq "footnote body is a voetnoot block" "$(kind "$TMP/st.out" voetnoot)" \
    "1 VSO Beleidsreactie slachtoffermonitor seksueel geweld tegen kinderen 2017–2018 (Kamerstuk 31 015, nr. 202)"
check_eq "paragraph continues across the page break" \
    "$(kind "$TMP/st.out" al | grep -c 'een beschrijving en een overzicht')" 1
check_contains "footnote marker tagged sup" "$TMP/st.out" "sup	size=6.00&rise=3.50	layout:superscript"
check_eq "repeated header, footer and page numbers are furniture" \
    "$(furniture "$TMP/st.out" | cut -f1 | sort | uniq -c | awk '{ printf "%s %s,", $1, $2 }')" \
    "2 why=page-number,2 why=running-footer,2 why=running-header,"

printf 'kst\t1\npage\t1\t595\t842\nline\t1\t100\t100\t140\t109\t107\t9\t-\tF\tVraag 1\nline\t1\t100\t110\t300\t119\t118\t9\t-\tF\tKlopt het dat dit zo is?\nline\t1\t100\t140\t140\t149\t147\t9\t-\tF\tAntwoord 1\nline\t1\t100\t150\t200\t159\t158\t9\t-\tF\tJa, dat klopt.\n' > "$TMP/qa.st"
check_eq "short unpunctuated line on top of a sentence is a kop" \
    "$("$LAYOUT" "$TMP/qa.st" | awk -F'\t' '$1 == "block" { printf "%s:%s|", $3, $6 }')" \
    "kop:Vraag 1|al:Klopt het dat dit zo is?|kop:Antwoord 1|al:Ja, dat klopt.|"

check_eq "a dash under an unfinished sentence is no list item; unpunctuated items are" \
    "$("$LAYOUT" "$EXP/layout-dash.in" | awk -F'\t' '$1 == "block" { printf "%s:%s|", $3, substr($6, 1, 12) }')" \
    "al:De regeling |al:De onderdele|li:voorkomen va|li:signaleren v|"

# ----------------------------------------------------------------- corpus
if [ ! -x "$EXTRACT" ] || [ ! -d "$CORPUS/kst" ]; then
	ok "corpus tests # SKIP no extractor or corpus"
	exit 0
fi

layout_pdf() { "$EXTRACT" "$1" | "$LAYOUT" > "$2"; }

for pdf in "$CORPUS"/kst/*.pdf; do
	n=$(basename "$pdf" .pdf)
	out=$TMP/$n.st
	if ! layout_pdf "$pdf" "$out"; then
		fail "$n: pipeline failed"
		continue
	fi
	body "$out" > "$TMP/$n.txt"
	sim=$(python3 "$SIM" "$TMP/$n.txt" "${pdf%.pdf}.xml")
	if awk -v s="$sim" 'BEGIN { exit !(s >= 0.99) }'; then
		ok "$n: body similarity $sim against the official XML"
	else
		fail "$n: body similarity $sim < 0.99"
	fi
	bad=$( (body "$out" | grep -E 'kst-[0-9]|ah-tk-|ISSN|Tweede Kamer, vergaderjaar|Gravenhage 20|Tweede Kamer der Staten|Vergaderjaar';
	    kind "$out" al | grep -E '(^| )[0-9]+$') | head -1)
	check_eq "$n: no furniture inside body blocks" "$bad" ""
	check_eq "$n: title block is furniture" \
	    "$(furniture "$out" | grep -c 'why=title-block	Tweede Kamer der Staten-Generaal')" 1
	check_eq "$n: running footer is furniture" \
	    "$(furniture "$out" | grep -c '^why=running-footer	Tweede Kamer, vergaderjaar')" \
	    "$(awk -F'\t' '$1 == "page"' "$out" | wc -l | tr -d ' ')"
done

# the official XML's <al> texts, one a line, in order
python3 - "$CORPUS/kst/kst-32545-143.xml" > "$TMP/al.txt" <<'EOF'
import sys, xml.etree.ElementTree as ET
for al in ET.parse(sys.argv[1]).getroot().iter("al"):
    print(" ".join("".join(al.itertext()).split()))
EOF
check "kst-32545-143: block texts equal the official <al> texts one by one" \
    cmp -s "$TMP/al.txt" "$TMP/kst-32545-143.txt"
check_eq "kst-32545-143: aanhef, slotformulering, ondertekening" \
    "$(awk -F'\t' '$1 == "block" && $3 != "furniture" && $3 != "al" { print $3 }' "$TMP/kst-32545-143.st" | tr '\n' ' ')" \
    "aanhef slotformulering ondertekening "
check_eq "ah-tk-20202021-3235: Vraag/Antwoord headings" \
    "$(kind "$TMP/ah-tk-20202021-3235.st" kop | wc -l | tr -d ' ')" 18

# ministry letter: sender column, letter head, page numbers, one footnote
L1=$TMP/brief.st
if layout_pdf "$CORPUS/letters/kamerbrief-2011-03-01-draagmoederschap.pdf" "$L1"; then
	f=$(furniture "$L1")
	for want in "why=sender-column	Ons kenmerk 5687928/11" \
	    "why=sender-column	Directoraat-Generaal Preventie, Jeugd en Sancties" \
	    "why=letter-head	Datum 1 maart 2011" "why=letter-head	Onderwerp Draagmoederschap" \
	    "why=page-number	Pagina 2 van 3" "why=return-address	> Retouradres Postbus 20301 2500 EH Den Haag" \
	    "why=addressee	Aan de Voorzitter van de Tweede Kamer der Staten-Generaal"; do
		case $f in
		*"$want"*) ok "letter: furniture [$want]" ;;
		*) fail "letter: furniture [$want] missing" ;;
		esac
	done
	check_eq "letter: no letter furniture in the body" \
	    "$(body "$L1" | grep -E 'Pagina [0-9]|Retouradres|Postbus|kenmerk|rijksoverheid.nl' | head -1)" ""
	check_eq "letter: footnote is a voetnoot block" \
	    "$(kind "$L1" voetnoot | cut -c1-40)" "1 Bij hoogtechnologisch draagmoederschap"
	check_eq "letter: footnote text not in a paragraph" \
	    "$(body "$L1" | grep -c 'Bij hoogtechnologisch')" 0
	check_eq "letter: paragraph across pages 1-2 is one block" \
	    "$(kind "$L1" al | grep -c 'tien gevallen in aanraking te komen')" 1
	check_eq "letter: paragraph break at a short last line" \
	    "$(kind "$L1" al | grep -c '^Hoe vaak (commercieel)')" 1
	check_eq "letter: italic headings" \
	    "$(kind "$L1" kop | tr '\n' '|')" \
	    "Rapport|Vraagstukken rond het draagmoederschap|Vrijwilligheid|Belangen|Draagmoederschap of adoptie?|Handhaafbaarheid van normen en regels|"
	check_eq "letter: signature is one block, a line a signatory line" \
	    "$(kind "$L1" ondertekening)" 'De Staatssecretaris van Veiligheid en Justitie,\nF. Teeven'
	check_contains "letter: keeps 'wet- en regelgeving'" "$L1" "wet- en regelgeving"
	emph=$(python3 - "$L1" <<'EOF'
import sys
blocks = {}
for ln in open(sys.argv[1], encoding="utf-8"):
    f = ln.rstrip("\n").split("\t")
    if f[0] == "block":
        blocks[f[1]] = f[5].encode()
    elif f[0] == "tag" and f[4] == "nadruk":
        print(f[5] + ":" + blocks[f[1]][int(f[2]):int(f[3])].decode())
EOF
)
	check_eq "letter: italic titles are nadruk tags (also on a mostly italic line)" "$emph" \
	    "$(printf 'type=cursief:Draagmoederschap en illegale opneming van kinderen\ntype=cursief:Wet donorgegevens kunstmatige bevruchting')"
else
	fail "letter: pipeline failed"
fi

# BNC-fiche: 13 footnotes, page numbers, numbered headings, broken URLs
L2=$TMP/bnc.st
if layout_pdf "$CORPUS/letters/bnc-fiche-5-mifid-2021.pdf" "$L2"; then
	check_eq "bnc: 13 voetnoot blocks numbered 1..13" \
	    "$(kind "$L2" voetnoot | cut -d' ' -f1 | tr '\n' ' ')" "1 2 3 4 5 6 7 8 9 10 11 12 13 "
	check_eq "bnc: 15 page numbers are furniture" \
	    "$(furniture "$L2" | grep -c '^why=page-number	Pagina [0-9]* van 15$')" 15
	check_eq "bnc: no page number or footnote text in the body" \
	    "$(body "$L2" | grep -E 'Pagina [0-9]+ van|Brokers zijn beleggingsondernemingen|De secundaire handel doelt' | head -1)" ""
	check_contains "bnc: URL broken after a hyphen keeps it" "$L2" \
	    "esma-70-156-4572_mifid-_ii_final_report_on_algortihmic_trading.pdf"
	check_contains "bnc: otc-derivaten keeps its hyphen" "$L2" "otc-derivaten"
	check_contains "bnc: niet-professionele keeps its hyphen" "$L2" "niet-professionele"
	check_eq "bnc: numbered headings" \
	    "$(awk -F'\t' '$3 == "kop" && $6 ~ /^[0-9]\. / { split($6, w, " "); print w[2] }' "$L2" | tr '\n' '|')" \
	    "Algemene|Essentie|Nederlandse|Beoordeling|Financiële|Implicaties|Implicaties|Implicaties|"
	check_eq "bnc: a heading wrapped over two lines is one kop" \
	    "$(kind "$L2" kop | grep -c '^5. Financiële consequenties, gevolgen voor regeldruk, concurrentiekracht en geopolitieke aspecten$')" 1
	check_eq "bnc: italic sub-headings under a numbered heading are level 2" \
	    "$(awk -F'\t' '$3 == "kop" && $6 ~ /^a\) / { print $5 }' "$L2" | sort -u)" "level=2"
	"$EXTRACT" "$CORPUS/letters/bnc-fiche-5-mifid-2021.pdf" | "$LAYOUT" > "$TMP/bnc2.st"
	check "bnc: byte-identical output twice" cmp -s "$L2" "$TMP/bnc2.st"
else
	fail "bnc: pipeline failed"
fi

# fixtures made by the typesetter: every block's kind, attributes and text
# as the typesetter's source says (footnote markers, tagged sup, left out)
cat > "$TMP/cmp.py" <<'EOF'
import sys
blocks, sups = [], {}
for ln in open(sys.argv[1], encoding="utf-8"):
    f = ln.rstrip("\n").split("\t")
    if f[0] == "block":
        blocks.append((int(f[1]), f[2], f[4], f[5]))
    elif f[0] == "tag" and f[4] == "sup":
        sups.setdefault(int(f[1]), []).append((int(f[2]), int(f[3])))
ours = []
for bid, kind, attrs, text in blocks:
    if kind == "furniture" and attrs == "why=dateline":
        kind, attrs = "dagtekening", "-"
    if kind in ("furniture", "voetnoot"):
        continue
    b = text.encode()
    for s, e in sorted(sups.get(bid, []), reverse=True):
        b = b[:s] + b[e:]
    ours.append("%s\t%s\t%s" % (kind, attrs, b.decode()))
want = [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8")]
same = sum(1 for a, b in zip(ours, want) if a == b)
print("%d/%d%s" % (same, len(want), "" if len(ours) == len(want) else " ours=%d" % len(ours)))
EOF
for pdf in fixtures/*.pdf; do
	[ -f "${pdf%.pdf}.blocks.tsv" ] || continue
	n=$(basename "$pdf" .pdf)
	if ! layout_pdf "$pdf" "$TMP/$n.st"; then
		fail "fixture $n: pipeline failed"
		continue
	fi
	r=$(python3 "$TMP/cmp.py" "$TMP/$n.st" "${pdf%.pdf}.blocks.tsv")
	if [ "${r%%/*}" = "${r#*/}" ]; then
		ok "fixture $n: blocks equal to the typesetter's source: $r"
	else
		fail "fixture $n: blocks equal to the typesetter's source: $r"
	fi
	check_eq "fixture $n: no running footer in the body" \
	    "$(body "$TMP/$n.st" | grep -E 'kst-[0-9]|Tweede Kamer, vergaderjaar' | head -1)" ""
done
exit 0
