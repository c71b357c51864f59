#!/bin/sh
# The porcelain: bin/kst2xml. First its plumbing, on a fake stage tree in
# $TMP (shell scripts with known behaviour: crash, hang, fail, SIGPIPE), then
# the real chain on the corpus: bad inputs, good inputs, batch form.
. tests/lib.sh

# Everything below writes under $TMP only: refuse to run without it.
case $TMP in /*/kst-t.*) [ -d "$TMP" ] || exit 1 ;; *) echo "not ok - no temporary directory"; exit 1 ;; esac

# --- a fake tree -------------------------------------------------------
F=$TMP/fake
mkdir -p "$F/extractors" "$F/transformers" "$F/bin" "$TMP/in" "$TMP/alt"
cat >"$F/extractors/kst-extract" <<'EOF'
#!/bin/sh
# Fake extractor: a "PDF" is a text file starting with %PDF-.
if [ $# -eq 0 ]; then f=-; in=$(cat); else f=$1; in=$(cat "$1"); fi
case $in in
%PDF-*) ;;
*) echo "kst-extract: $f: not a PDF (no %PDF- header)" >&2; exit 5 ;;
esac
printf 'kst\t1\ntext\t%s\n' "$in"
EOF
printf '#!/bin/sh\nexec cat\n' >"$F/transformers/kst-layout"
cp "$F/transformers/kst-layout" "$F/transformers/kst-meta"
cp "$F/transformers/kst-layout" "$F/transformers/kst-notes"
cp "$F/transformers/kst-layout" "$F/transformers/kst-refs"
cp "$F/transformers/kst-layout" "$F/transformers/kst-commit"
cat >"$F/transformers/kst-xml" <<'EOF'
#!/bin/sh
echo '<kamerstuk>'
sed -n 's/^text	\(.*\)$/<al>\1<\/al>/p'
echo '</kamerstuk>'
EOF
cat >"$F/bin/kst-validate" <<'EOF'
#!/bin/sh
# Fake validator: "invalid" when the document says so.
x=$(cat)
case $x in
*'<kamerstuk>'*INVALID*) echo "kst-validate: -:2: element al: not expected" >&2; exit 1 ;;
*'<kamerstuk>'*) exit 0 ;;
esac
echo "kst-validate: -:1: not a kamerstuk" >&2; exit 1
EOF
# Misbehaving stages, each named like the real one so messages read true.
mkdir -p "$TMP/crash" "$TMP/hang" "$TMP/fail" "$TMP/quit"
printf '#!/bin/sh\ncat >/dev/null\nkill -SEGV $$\n' >"$TMP/crash/kst-layout"
printf '#!/bin/sh\necho $$ >"%s/hang.pid"\nexec sleep 60\n' "$TMP" >"$TMP/hang/kst-layout"
printf '#!/bin/sh\ncat >/dev/null\necho "kst-layout: -:2: bad record" >&2\nexit 9\n' >"$TMP/fail/kst-layout"
# Quits at once without reading: the extractor upstream dies of SIGPIPE.
printf '#!/bin/sh\necho "kst-layout: -:1: not a kst stream" >&2\nexit 9\n' >"$TMP/quit/kst-layout"
printf '#!/bin/sh\nyes %s | head -c 20000000\n' "%PDF-lots" >"$TMP/quit/kst-extract"
# Dies like a sanitized stage: a report on stderr, then exit 1.
mkdir -p "$TMP/asan"
cat >"$TMP/asan/kst-layout" <<'EOF'
#!/bin/sh
cat >/dev/null
echo "kst-layout: -: warning first" >&2
echo "=================================================================" >&2
echo "==42==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x1" >&2
echo "SUMMARY: AddressSanitizer: heap-buffer-overflow kst-layout.c:10 in f" >&2
echo "==42==ABORTING" >&2
exit 1
EOF
chmod +x "$TMP"/asan/* "$F"/*/* "$TMP"/crash/* "$TMP"/hang/* "$TMP"/fail/* "$TMP"/quit/*

fake() { KST_ROOT=$F "$KST2XML" "$@"; }
# run NAME command...: stdout to $TMP/NAME.out, stderr to .err, status in $rc
run() { n=$1; shift; "$@" >"$TMP/$n.out" 2>"$TMP/$n.err"; rc=$?; }
lines() { wc -l <"$1" | tr -d ' '; }

printf '%%PDF-1 een' >"$TMP/in/een.pdf"
printf '%%PDF-1 twee' >"$TMP/in/twee.pdf"
printf '%%PDF-1 INVALID' >"$TMP/in/ongeldig.pdf"
printf 'rubbish' >"$TMP/in/rommel.pdf"
: >"$TMP/in/leeg.pdf"

check "--help exits 0" "$KST2XML" --help
check_eq "--version" "$("$KST2XML" --version)" "kst2xml 0.1.0"
check_status "two inputs without -o: usage error" 2 fake "$TMP/in/een.pdf" "$TMP/in/twee.pdf"
check_status "bad --timeout: usage error" 2 fake --timeout x "$TMP/in/een.pdf"

run good fake "$TMP/in/een.pdf"
check_eq "fake chain: exit 0" "$rc" 0
check_eq "fake chain: the XML on stdout" "$(cat "$TMP/good.out")" "$(printf '<kamerstuk>\n<al>%%PDF-1 een</al>\n</kamerstuk>')"
check_eq "fake chain: stderr silent" "$(cat "$TMP/good.err")" ""
run stdin fake <"$TMP/in/een.pdf"
check_eq "PDF on stdin: same XML" "$(cat "$TMP/stdin.out")" "$(cat "$TMP/good.out")"

# Failures of one document: status, one line naming the file, no stdout.
one_failure() {	# description status expected-stderr command...
	d=$1 want=$2 msg=$3; shift 3
	run one "$@"
	check_eq "$d: exit status" "$rc" "$want"
	check_eq "$d: one line on stderr" "$(cat "$TMP/one.err")" "$msg"
	check_eq "$d: nothing on stdout" "$(lines "$TMP/one.out")" 0
}
in=$TMP/in
one_failure "missing file" 3 "kst2xml: $in/nix.pdf: No such file or directory" fake "$in/nix.pdf"
one_failure "empty file" 4 "kst2xml: $in/leeg.pdf: empty file" fake "$in/leeg.pdf"
one_failure "directory" 3 "kst2xml: $in: is a directory" fake "$in"
one_failure "stage's own message, input path not repeated" 5 \
	"kst2xml: $in/rommel.pdf: kst-extract: not a PDF (no %PDF- header)" fake "$in/rommel.pdf"
one_failure "invalid XML" 1 "kst2xml: $in/ongeldig.pdf: kst-validate: -:2: element al: not expected" \
	fake "$in/ongeldig.pdf"
run noval fake --no-validate "$in/ongeldig.pdf"
check_eq "--no-validate writes what the chain made" "$rc:$(lines "$TMP/noval.out")" "0:3"
one_failure "stage crash" 13 "kst2xml: $in/een.pdf: kst-layout crashed (signal 11)" \
	fake --stages "kst-extract,$TMP/crash/kst-layout,kst-xml" "$in/een.pdf"
one_failure "sanitizer report: its summary is the message" 1 \
	"kst2xml: $in/een.pdf: SUMMARY: AddressSanitizer: heap-buffer-overflow kst-layout.c:10 in f" \
	fake --stages "kst-extract,$TMP/asan/kst-layout,kst-xml" "$in/een.pdf"
run verbose fake -v --stages "kst-extract,$TMP/asan/kst-layout,kst-xml" "$in/een.pdf"
check_eq "-v relays the whole report, then the line" "$(lines "$TMP/verbose.err")" 6
one_failure "stage failure" 9 "kst2xml: $in/een.pdf: kst-layout: -:2: bad record" \
	fake --stages "kst-extract,$TMP/fail/kst-layout,kst-meta,kst-xml" "$in/een.pdf"
one_failure "SIGPIPE victim upstream is not blamed" 9 "kst2xml: $in/een.pdf: kst-layout: -:1: not a kst stream" \
	fake --stages "$TMP/quit/kst-extract,$TMP/quit/kst-layout,kst-xml" "$in/een.pdf"
one_failure "stage not found" 13 \
	"kst2xml: stage not found: kst-nope (looked in $F/{extractors,transformers,bin}; --stages runs another chain)" \
	fake --stages kst-extract,kst-nope "$in/een.pdf"
KST_STAGES="kst-extract,$TMP/fail/kst-layout" run env fake "$in/een.pdf"
check_eq "KST_STAGES chooses the chain" "$rc" 9

# A tree where kst-meta is not built yet: the default chain refuses to start.
mkdir -p "$TMP/part/extractors" "$TMP/part/transformers" "$TMP/part/bin"
cp "$F/extractors/"* "$TMP/part/extractors/"
cp "$F/transformers/kst-layout" "$F/transformers/kst-notes" "$F/transformers/kst-xml" "$TMP/part/transformers/"
cp "$F/bin/kst-validate" "$TMP/part/bin/"
run part env KST_ROOT="$TMP/part" "$KST2XML" "$in/een.pdf"
check_eq "missing default stage: status 13" "$rc" 13
check_contains "missing default stage: named" "$TMP/part.err" "stage not found: kst-meta"
run part2 env KST_ROOT="$TMP/part" "$KST2XML" --stages kst-extract,kst-layout,kst-notes,kst-xml "$in/een.pdf"
check_eq "--stages runs the chain without it" "$rc:$(lines "$TMP/part2.out")" "0:3"

# A hung stage is killed with its whole chain.
t0=$(date +%s)
one_failure "hung stage" 13 "kst2xml: $in/een.pdf: timed out after 1 s (still running: kst-layout, kst-meta, kst-notes, kst-xml)" \
	fake --timeout 1 --stages "kst-extract,$TMP/hang/kst-layout,kst-meta,kst-notes,kst-xml" "$in/een.pdf"
t1=$(date +%s)
check "hung stage: killed within 3 s" test $((t1 - t0)) -le 3
check "hung stage: its process is gone" sh -c "! kill -0 $(cat "$TMP/hang.pid" 2>/dev/null || echo 1) 2>/dev/null"

# --output: atomic single-file form.
run outok fake --output "$TMP/alt/een.xml" "$in/een.pdf"
check_eq "--output: written" "$rc:$(cat "$TMP/alt/een.xml")" "0:$(cat "$TMP/good.out")"
check_eq "--output: stdout empty" "$(lines "$TMP/outok.out")" 0
run outbad fake --output "$TMP/alt/rommel.xml" "$in/rommel.pdf"
check_eq "--output failure: no file, no temporary" "$rc:$(ls -A "$TMP/alt" | tr '\n' ' ')" "5:een.xml "

# --- batch form --------------------------------------------------------
cd "$TMP/in" || exit 1
run batch env KST_ROOT="$F" "$OLDPWD/$KST2XML" -o "$TMP/b" -j 3 --report "$TMP/report.tsv" \
	een.pdf rommel.pdf twee.pdf nix.pdf leeg.pdf ongeldig.pdf
cd "$OLDPWD" || exit 1
check_eq "batch: status of the first failure in argument order" "$rc" 5
check_eq "batch: only the good .xml, no temporaries" "$(ls -A "$TMP/b" | tr '\n' ' ')" "een.xml twee.xml "
check_eq "batch: same XML as the single form" "$(cat "$TMP/b/een.xml")" "$(cat "$TMP/good.out")"
if diff "$TMP/batch.err" tests/expected/kst2xml-batch-summary.txt >"$TMP/diff" 2>&1; then
	ok "batch: summary lists every failure with reason and status"
else
	fail "batch: summary differs from tests/expected/kst2xml-batch-summary.txt"
	sed 's/^/# /' "$TMP/diff"
fi
check_eq "batch: nothing on stdout" "$(lines "$TMP/batch.out")" 0
check_eq "batch report: header, a line per input in order" \
	"$(cut -f1-4 "$TMP/report.tsv")" "$(cat tests/expected/kst2xml-report.tsv)"
check "batch report: seconds are numbers" awk -F '\t' 'NR > 1 && $5 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ { exit 1 }' "$TMP/report.tsv"
run allgood fake -o "$TMP/b2" "$in/een.pdf" "$in/twee.pdf"
check_eq "batch all good: exit 0, summary" "$rc:$(cat "$TMP/allgood.err")" "0:2 converted, 0 failed"
run dup fake -o "$TMP/b3" "$in/een.pdf" "$TMP/alt/../in/een.pdf"
check_eq "batch: two inputs, one output name: usage error" "$rc" 2

# Many documents through few descriptors: a leak of one pipe a chain fails.
i=0
while [ $i -lt 120 ]; do printf '%%PDF-1 doc %d' $i >"$TMP/in/d$i.pdf"; i=$((i + 1)); done
run many sh -c "ulimit -n 40 && KST_ROOT='$F' '$KST2XML' -o '$TMP/many' -j 4 '$TMP'/in/d*.pdf"
check_eq "120 documents, -j 4, 40 descriptors: all converted" "$rc:$(ls -A "$TMP/many" | wc -l | tr -d ' ')" "0:120"
run many1 fake -o "$TMP/many1" -j 1 "$TMP"/in/d*.pdf
check "-j 1 and -j 4 give identical files" diff -r "$TMP/many" "$TMP/many1"

# Interrupted: the chain dies with us and nothing is left behind.
rm -f "$TMP/hang.pid"
KST_ROOT=$F "$KST2XML" -o "$TMP/int" --stages "kst-extract,$TMP/hang/kst-layout,kst-xml" "$in/een.pdf" "$in/twee.pdf" \
	>/dev/null 2>"$TMP/int.err" &
pid=$!
i=0
while [ ! -s "$TMP/hang.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
check_eq "SIGTERM: exit 128+15" "$rc" 143
check_eq "SIGTERM: no files left in the output directory" "$(ls -A "$TMP/int" | wc -l | tr -d ' ')" 0
check "SIGTERM: the hung stage is gone" sh -c "! kill -0 $(cat "$TMP/hang.pid" 2>/dev/null || echo 1) 2>/dev/null"

# --- the real chain on the corpus ---------------------------------------
for b in "bad/not-a-pdf.pdf 5 not a PDF" "bad/truncated.pdf 6 damaged" \
	"scanned/blg-1007826-image-only.pdf 8 OCR"; do
	set -- $b
	f=$CORPUS/$1 want=$2; shift 2
	run real "$KST2XML" "$f"
	check_eq "$f: status $want" "$rc" "$want"
	check_eq "$f: one line naming the file" "$(lines "$TMP/real.err"):$(grep -c "^kst2xml: $f: kst-extract: .*$*" "$TMP/real.err")" "1:1"
	check_eq "$f: nothing on stdout" "$(lines "$TMP/real.out")" 0
done
run real "$KST2XML" "$CORPUS/kst/nix.pdf"
check_eq "real: missing file: status 3, one line" "$rc:$(cat "$TMP/real.err")" "3:kst2xml: $CORPUS/kst/nix.pdf: No such file or directory"
run real "$KST2XML" "$TMP/in/leeg.pdf"
check_eq "real: empty file: status 4, one line" "$rc:$(cat "$TMP/real.err")" "4:kst2xml: $TMP/in/leeg.pdf: empty file"

good=$CORPUS/kst/kst-32545-143.pdf
run real1 "$KST2XML" "$good"
check_eq "$good: converts, stderr silent" "$rc:$(cat "$TMP/real1.err")" "0:"
check "$good: output validates" "$VALIDATE" "$TMP/real1.out"
check_contains "$good: the motion's text is in it" "$TMP/real1.out" "verzoekt de regering"
run real2 "$KST2XML" "$good"
check "$good: byte-identical twice" sh -c "test -s '$TMP/real1.out' && cmp '$TMP/real1.out' '$TMP/real2.out'"

run realb "$KST2XML" -o "$TMP/real" "$CORPUS/kst/kst-28286-1366.pdf" "$CORPUS/bad/truncated.pdf" \
	"$CORPUS/kst/kst-32545-143.pdf" "$CORPUS/scanned/blg-1007826-image-only.pdf"
check_eq "real batch: status of the first failure (truncated: 6)" "$rc" 6
check_eq "real batch: good ones only, no temporaries" "$(ls -A "$TMP/real" | tr '\n' ' ')" "kst-28286-1366.xml kst-32545-143.xml "
check "real batch: every .xml validates" "$VALIDATE" "$TMP/real/kst-28286-1366.xml" "$TMP/real/kst-32545-143.xml"
check "real batch: same bytes as the single form" cmp "$TMP/real/kst-32545-143.xml" "$TMP/real1.out"
check_contains "real batch: summary counts" "$TMP/realb.err" "2 converted, 2 failed"
check_contains "real batch: truncated listed with its status" "$TMP/realb.err" "$CORPUS/bad/truncated.pdf: kst-extract: damaged"
check_contains "real batch: scan listed with its status" "$TMP/realb.err" "(exit 8)"
