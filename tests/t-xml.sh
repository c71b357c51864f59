# Tests for kst-xml (stream -> XML), kst-validate and schemas/kamerstuk.xsd.
# Inputs are hand-written streams in tests/expected/xml-*.in; the XML they
# must give is beside them in xml-*.xml.
. tests/lib.sh

EXP=tests/expected
XSD=schemas/kamerstuk.xsd

# --- kst-xml: expected output, validity, byte-identical reruns
for in in $EXP/xml-*.in; do
	name=$(basename "$in" .in)
	if ! "$TOXML" "$in" >"$TMP/$name.xml" 2>"$TMP/$name.err"; then
		fail "$name: kst-xml exited non-zero: $(head -1 "$TMP/$name.err")"
		continue
	fi
	if diff -u "$EXP/$name.xml" "$TMP/$name.xml" >"$TMP/$name.diff"; then
		ok "$name: output equals $EXP/$name.xml"
	else
		fail "$name: output differs from $EXP/$name.xml"
		head -30 "$TMP/$name.diff" | sed 's/^/# /'
	fi
	check "$name: output validates" "$VALIDATE" -q "$TMP/$name.xml"
	"$TOXML" <"$in" >"$TMP/$name.again.xml" 2>/dev/null
	check "$name: second run (from stdin) is byte-identical" \
	    cmp -s "$TMP/$name.xml" "$TMP/$name.again.xml"
done
# The expected files themselves must validate too: they are the examples
# people read.
check "expected XML files validate" "$VALIDATE" -q $EXP/xml-*.xml

B=$TMP/xml-basic.xml L=$TMP/xml-lists.xml T=$TMP/xml-tags.xml E=$TMP/xml-escape.xml

# --- what a person would check by eye
check_contains "metadata: dossier and dagtekening" "$B" \
    '<dagtekening datum="2021-02-04">4 februari 2021</dagtekening>'
check_contains "metadata: signatory with function (attr %2C decoded)" "$B" \
    '<functie>De Staatssecretaris van Volksgezondheid, Welzijn en Sport</functie>'
check_eq "metadata: two medeNamens" "$(grep -c '<medeNamens>' "$B")" 2
check_contains "bron: file name without directories" "$B" 'bestand="kst-34843-45.pdf"'
check_contains "conversie: warn record becomes a melding" "$B" \
    '<melding code="layout-hyphen">page 2: could not decide on "zorg-verzekeraar"</melding>'
check_contains "nootref: marker glued to 2018 is linked to n1" "$B" \
    'In 2017–2018<nootref noot="n1" regel="kst-notes:glued">1</nootref> bleek'
check_contains "noot n1: text without its number, reference inside" "$B" \
    '<noot id="n1" nr="1" pagina="1" regel="kst-notes:body">VSO Beleidsreactie (<verwijzing type="kamerstuk" parlId="kst-31015-202"'
check_eq "furniture and footnote bodies stay out of inhoud" \
    "$(sed -n '/<inhoud>/,/<\/inhoud>/p' "$B" | grep -c 'Raadpleegbaar\|ISSN\|vergaderjaar 2020')" 0
check_contains "toezegging with actor and termijn" "$B" '<termijn>voor de zomer</termijn>'
check_contains "newlines in a block become character references" "$B" \
    'Volksgezondheid,&#10;Welzijn en Sport,&#10;P. Blokhuis</ondertekening>'

check_contains "lists: level 2 opens a lijst inside the open li" "$L" \
    '<li nr="1." pagina="1">preventie;<lijst>'
check_contains "lists: level 3 after furniture and a footnote nests once more" "$L" \
    '<li nr="b." pagina="1">in de sport;<lijst>'
check_eq "lists: back to level 1 closes both nested lists" \
    "$(grep -c '</lijst></li>' "$L")" 3
check_eq "lists: two separate lists around the al" "$(grep -c '^    <lijst>' "$L")" 2

check_contains "tags: nadruk crossing a verwijzing is dropped, text kept" "$T" \
    '(<verwijzing type="kamerstuk" parlId="kst-35570-VIII-91" regel="kst-refs:kamerstuk">Kamerstuk 35 570 VIII, nr. 91</verwijzing>) over onderwijs'
check_contains "tags: crossing is reported" "$T" 'nadruk tag 50..62 crosses verwijzing tag 27..56: dropped'
check_contains "tags: equal ranges nest verwijzing > nadruk" "$T" \
    '<verwijzing type="staatsblad" stb="2020-118" regel="kst-refs:stb"><nadruk type="cursief" regel="kst-layout:style">Stb. 2020, 118</nadruk></verwijzing></nadruk> erin.'
check_contains "tags: marker without a note stays text, with a melding" "$T" \
    'marker "4" points to no footnote (noot="n99"): kept as text'
check_contains "tags: a range splitting a character is widened" "$T" '">Café</verwijzing>'
check_contains "tags: a marker starting mid-character is widened" "$T" \
    'noot<nootref noot="n5" regel="test:mid-char">⁵</nootref> na'
check_contains "noot: number alone in its block adds no space" "$T" \
    'regel="kst-notes:number-alone">Een noot waarvan'
check_contains "noot: continuation on the next page appended with a space" "$T" \
    'handelingskader- kindermishandeling-en-huiselijk-geweld-voor-het-onderwijs</noot>'
check_contains "noot: voetnoot block without noot tag is kept" "$T" \
    '<noot id="blok-7" nr="4" pagina="2" regel="kst-xml:voetnoot-zonder-noot">Een noot zonder noot-tag.</noot>'
check_contains "noot: untagged body is reported" "$T" 'footnote body without a noot tag, kept as noot blok-8'
check_eq "tags: sup and unknown kinds leave no trace" "$(grep -c 'sup\|totally-new' "$T")" 0

check_contains "escape: & < > and ]]>" "$E" \
    'A &amp; B &lt; C &gt; D "E" '"'"'F'"'"' ]]&gt; &lt;!-- niet --&gt; &amp;amp;</al>'
check_contains "escape: control characters and U+FFFE removed, tab kept" "$E" \
    "Stuurtekens weg, tab	blijft, regel&#10;einde, &#13; terug,  weg."
check_contains "escape: invalid UTF-8 (bad, overlong, surrogate) becomes U+FFFD" "$E" \
    'Kapot: �( en ��� en ����� en �� en goed: é.'
check_contains "escape: repairs are reported" "$E" '11 invalid UTF-8 byte(s) replaced by U+FFFD'
check_contains "escape: attribute quoting" "$E" 'bestand="with &quot;quotes&quot; &amp; &lt;angles&gt;.pdf"'
check_contains "meta: a value that does not fit the schema is left out, said why" "$E" \
    'meta vergaderjaar "2020–2021": does not fit the schema: left out'
check_eq "meta: an impossible date loses its datum attribute" \
    "$(grep -c '<dagtekening>30 februari 2021</dagtekening>' "$E")" 1

# --- kst-xml on broken streams: one line on stderr, exit 9, nothing on stdout
SHA=abababababababababababababababababababababababababababababababab
bad_stream() {	# description expected-line-number printf-format
	printf "$3" >"$TMP/bad.in"
	"$TOXML" "$TMP/bad.in" >"$TMP/bad.out" 2>"$TMP/bad.err"; st=$?
	if [ $st -eq 9 ] && [ ! -s "$TMP/bad.out" ] && [ "$(wc -l <"$TMP/bad.err")" -eq 1 ] &&
	    grep -q "bad.in:$2: " "$TMP/bad.err"; then
		ok "broken stream: $1"
	else
		fail "broken stream: $1 (exit $st, stderr: $(cat "$TMP/bad.err"))"
	fi
}
bad_stream "not a number" 3 "kst\t1\nsource\t1\t1\t$SHA\ta.pdf\nblock\tx\tal\t1\t-\thi\n"
bad_stream "block ids go down" 4 "kst\t1\nsource\t1\t1\t$SHA\ta.pdf\nblock\t2\tal\t1\t-\ta\nblock\t1\tal\t1\t-\tb\n"
bad_stream "reversed tag range" 3 "kst\t1\nsource\t1\t1\t$SHA\ta.pdf\ntag\t1\t5\t2\tnootref\t-\tr\n"
bad_stream "too few fields" 3 "kst\t1\nsource\t1\t1\t$SHA\ta.pdf\nblock\t1\tal\t1\n"
bad_stream "truncated last record" 3 "kst\t1\nsource\t1\t1\t$SHA\ta.pdf\nblock\t1\tal\t1\t-\thi"
bad_stream "no header" 1 "hello\n"
bad_stream "no source record" 2 "kst\t1\nblock\t1\tal\t1\t-\thi\n"
# Empty attribute values ("type=", "noot=", "nr=") must neither crash kst-xml
# nor make it write invalid XML.
printf "kst\t1\nsource\t1\t1\t$SHA\ta.pdf\nblock\t1\tkop\t1\tlevel=\tKop 1\nblock\t2\tli\t1\tmarker=&level=x\titem\nblock\t3\tvoetnoot\t1\t-\t1 noot\ntag\t1\t0\t3\tverwijzing\ttype=&parlId=&datum=\tr\ntag\t1\t4\t5\tnootref\tnoot=\tr\ntag\t1\t0\t1\tnadruk\ttype=\tr\ntag\t3\t2\t6\tnoot\tid=&nr=\tr\nmeta\tdossier\ttoevoeging=\t1\nmeta\tdagtekening\tdatum=\t\nmeta\tondertekenaar\tfunctie=\t\n" >"$TMP/empty-attrs.in"
"$TOXML" "$TMP/empty-attrs.in" >"$TMP/empty-attrs.xml" 2>"$TMP/empty-attrs.err"
check_eq "empty attribute values: kst-xml succeeds" "$?" 0
check "empty attribute values: output validates" "$VALIDATE" -q "$TMP/empty-attrs.xml"

check_status "kst-xml: missing file is KST_ENOFILE" 3 "$TOXML" "$TMP/nonexistent.in"
check_status "kst-xml: bad option is KST_EUSAGE" 2 "$TOXML" -x
check "kst-xml --help" "$TOXML" --help
check_eq "kst-xml --version" "$("$TOXML" --version)" "kst-xml $(sed -n 's/#define KST_VERSION "\(.*\)"/\1/p' lib/kst.h)"

# --- kst-validate
check_status "validate: all valid is 0" 0 "$VALIDATE" "$B" "$L"
check_eq "validate: says so per file" "$("$VALIDATE" "$B" 2>&1)" "$B: valid"
check_eq "validate: -q is silent" "$("$VALIDATE" -q "$B" 2>&1)" ""
check_status "validate: stdin with -" 0 sh -c "\"$VALIDATE\" -q - <\"$B\""

# A nootref whose note does not exist: the keyref catches it, on its line.
sed 's/<nootref noot="n2"/<nootref noot="n9"/' "$B" >"$TMP/dangling.xml"
line=$(grep -n 'noot="n9"' "$TMP/dangling.xml" | cut -d: -f1)
"$VALIDATE" "$TMP/dangling.xml" >"$TMP/v.out" 2>"$TMP/v.err"; st=$?
check_eq "validate: dangling nootref is invalid (exit 1)" "$st" 1
check_contains "validate: message names file, line and the missing key" "$TMP/v.err" \
    "kst-validate: $TMP/dangling.xml:$line: Element 'nootref': No match found for key-sequence ['n9']"
check_eq "validate: nothing on stdout for an invalid file" "$(cat "$TMP/v.out")" ""

sed 's/<noot id="n2"/<noot id="n1"/' "$B" >"$TMP/dupid.xml"
check_status "validate: two notes with one id are invalid" 1 "$VALIDATE" "$TMP/dupid.xml"
grep -v '<bron ' "$B" >"$TMP/nobron.xml"
check_status "validate: bron is required" 1 "$VALIDATE" "$TMP/nobron.xml"
sed 's/2020-2021/2020–2021/' "$B" >"$TMP/year.xml"
check_status "validate: vergaderjaar must be YYYY-YYYY" 1 "$VALIDATE" "$TMP/year.xml"
sed 's/urn:kst2xml:kamerstuk:1/urn:kst2xml:kamerstuk:2/' "$B" >"$TMP/ns.xml"
check_status "validate: another major version's namespace is invalid" 1 "$VALIDATE" "$TMP/ns.xml"

printf '<kamerstuk xmlns="urn:kst2xml:kamerstuk:1">\n<meta>\n</kamerstuk>\n' >"$TMP/broken.xml"
"$VALIDATE" "$TMP/broken.xml" >/dev/null 2>"$TMP/v.err"; st=$?
check_eq "validate: broken XML is invalid (exit 1)" "$st" 1
check_contains "validate: broken XML reported with its line" "$TMP/v.err" \
    "$TMP/broken.xml:3: Opening and ending tag mismatch: meta line 2 and kamerstuk"
check_eq "validate: one line per error" "$(grep -vc "^kst-validate: $TMP/broken.xml:[0-9]*: " "$TMP/v.err")" 0

check_status "validate: unreadable file is KST_ENOFILE" 3 "$VALIDATE" "$TMP/nonexistent.xml" "$B"
check_status "validate: invalid among valid is KST_EINVALID" 1 "$VALIDATE" "$B" "$TMP/broken.xml" "$L"
check_status "validate: bad option is KST_EUSAGE" 2 "$VALIDATE" -x "$B"
check_status "validate: missing schema is KST_ENOFILE" 3 "$VALIDATE" -s "$TMP/none.xsd" "$B"
check_status "validate: -s names the schema" 0 "$VALIDATE" -q -s "$XSD" "$B"
check_status "validate: KST_SCHEMA names the schema" 0 env KST_SCHEMA="$XSD" "$VALIDATE" -q "$B"
check "validate --help" "$VALIDATE" --help

# External entities and DTDs are never loaded, from disk or network.
printf 'secret-%s\n' "$$" >"$TMP/secret.txt"
cat >"$TMP/xxe.xml" <<EOF
<?xml version="1.0"?>
<!DOCTYPE kamerstuk SYSTEM "http://127.0.0.1:9/kamerstuk.dtd" [
<!ENTITY s SYSTEM "file://$TMP/secret.txt">
]>
<kamerstuk xmlns="urn:kst2xml:kamerstuk:1"><meta><titel>&s;</titel></meta></kamerstuk>
EOF
"$VALIDATE" "$TMP/xxe.xml" >"$TMP/v.out" 2>&1
check_eq "validate: external entity not loaded" "$(grep -c "secret-$$" "$TMP/v.out")" 0

# --- the real chain on the corpus, once the upstream stages exist
chain_ok=1
for stage in "$EXTRACT" "$LAYOUT"; do
	[ -x "$stage" ] || chain_ok=0
done
if [ $chain_ok -eq 1 ] && [ -d "$CORPUS/kst" ]; then
	for pdf in "$CORPUS"/kst/*.pdf "$CORPUS"/letters/*.pdf; do
		n=$(basename "$pdf" .pdf)
		# one stage at a time, so that a failing stage is seen (dash
		# has no pipefail)
		if "$EXTRACT" "$pdf" >"$TMP/$n.0" 2>"$TMP/$n.err"; then st=ok; else st="kst-extract failed"; fi
		i=0
		for stage in "$LAYOUT" "$KST_ROOT/transformers/kst-meta" "$NOTES" "$TOXML"; do
			[ -x "$stage" ] && [ "$st" = ok ] || continue
			if ! "$stage" "$TMP/$n.$i" >"$TMP/$n.$((i + 1))" 2>>"$TMP/$n.err"; then
				st="$(basename "$stage") failed"
			fi
			i=$((i + 1))
		done
		if [ "$st" = ok ] && "$VALIDATE" -q "$TMP/$n.$i" 2>>"$TMP/$n.err"; then
			ok "chain: $n.pdf gives valid XML"
			check_eq "chain: $n.pdf: every body block is in inhoud" \
			    "$(grep -o '<\(aanhef\|al\|kop\|li\|slotformulering\|ondertekening\) ' "$TMP/$n.$i" | wc -l | tr -d ' ')" \
			    "$(cut -f1,3 "$TMP/$n.$((i - 1))" | grep '^block' | grep -vc 'furniture\|voetnoot')"
		else
			fail "chain: $n.pdf: $st: $(head -3 "$TMP/$n.err" | tr '\n' ' ')"
		fi
	done
else
	ok "chain on the corpus skipped: kst-extract or kst-layout not built yet"
fi

# --- the complete example in docs/schema.md is what kst-xml writes
sed -n '/<!-- example:begin -->/,/<!-- example:end -->/p' docs/schema.md |
    sed -e '1,2d' -e '$d' | sed '$d' >"$TMP/doc-example.xml"
check "docs/schema.md example equals tests/expected/xml-example.xml" \
    cmp -s "$TMP/doc-example.xml" $EXP/xml-example.xml
