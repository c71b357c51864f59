#!/bin/sh
# make fuzz: builds the libFuzzer harnesses in tests/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) and runs each for SECONDS (default 60).
# Seeds come from real streams (kst-extract on the corpus, when built) plus a
# few hand-made ones; the growing corpus stays in out/fuzz/corpus-NAME, and a
# crash is saved as out/fuzz/NAME-crash-* (reproduce: out/fuzz/bin/NAME FILE).
#   sh tests/fuzz/run.sh [SECONDS]
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-60}
CORPUS=${CORPUS:-../shared/corpus}
CC=${FUZZ_CC:-clang}
out=out/fuzz
mkdir -p "$out/bin"
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found (apt-get install clang)" >&2
	exit 2
fi
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Ilib"
pcre=$(pkg-config --cflags --libs libpcre2-8 2>/dev/null)

build() {	# name sources... [-- libs]
	name=$1; shift
	echo "fuzz: building $name"
	# shellcheck disable=SC2086
	$CC $flags -o "$out/bin/$name" "$@" || { echo "fuzz: build of $name failed" >&2; return 1; }
}

# --- seeds from real streams
seeds=$out/seeds
rm -rf "$seeds"; mkdir -p "$seeds/record" "$seeds/attr" "$seeds/rules"
stream=$out/streams.txt
: >"$stream"
if [ -x extractors/kst-extract ]; then
	for f in "$CORPUS"/kst/*.pdf "$CORPUS"/letters/*.pdf; do
		[ -f "$f" ] || continue
		chain="extractors/kst-extract \"$f\""
		for s in kst-layout kst-meta kst-notes kst-refs kst-commit; do
			[ -x transformers/$s ] && chain="$chain | transformers/$s"
		done
		sh -c "$chain" 2>/dev/null >>"$stream"
	done
fi
printf 'kst\t1\nline\t1\t72.00\t80.50\t300.00\t92.00\t90.10\t10.00\tb\tUnivers\tEen \\\\ en \\t tab\nblock\t3\tal\t1\tlevel=1&marker=%%E2%%80%%93\tTekst\ntag\t3\t0\t4\tnootref\tnoot=n1\tkst-notes:marker\nmeta\tdossier\ttoevoeging=VIII\t35570\n' >>"$stream"
# One seed file per distinct record kind and shape, at most 400.
awk -F '\t' '!seen[$1 NF]++ || NR % 37 == 0' "$stream" | head -400 | {
	i=0
	while IFS= read -r line; do
		i=$((i + 1))
		printf '%s' "$line" >"$seeds/record/s$i"
	done
}
# Attribute fields: the fields holding '=' (key byte 2 = "id" length 2 prefix).
awk -F '\t' '{ for (i = 2; i <= NF; i++) if ($i ~ /=/ && length($i) < 400) print $i }' "$stream" |
	sort -u | head -200 | {
	i=0
	while IFS= read -r a; do
		i=$((i + 1))
		printf '\004noot%s' "$a" >"$seeds/attr/s$i"
	done
}
find . -name '*.rules' -not -path './out/*' 2>/dev/null | while IFS= read -r f; do
	cp "$f" "$seeds/rules/$(basename "$f")"
done
printf 'rule datum meta\n\tdatum ${d}-${m|month}\n\tmatch (?<d>\\d+) (?<m>\\w+)\n' >"$seeds/rules/hand"

# Tokens of the rule-file syntax (lib/rules.h), so mutations keep its shape.
printf '%s\n' '"rule "' '"\x09match "' '"\x09"' '"${"' '"}"' '"|"' '"(?<"' '">"' '"# "' \
	'"month"' '"pad2"' '"meta"' '"tag"' '"\x0A"' >"$out/rules.dict"

# --- build
harnesses=""
build record tests/fuzz/fuzz-record.c lib/stream.c lib/buf.c lib/kst.c && harnesses="$harnesses record"
build attr tests/fuzz/fuzz-attr.c lib/stream.c lib/buf.c lib/kst.c && harnesses="$harnesses attr"
if [ -f lib/rules.c ]; then
	# shellcheck disable=SC2086
	build rules tests/fuzz/fuzz-rules.c lib/rules.c lib/stream.c lib/buf.c lib/kst.c $pcre &&
		harnesses="$harnesses rules"
else
	echo "fuzz: lib/rules.c not there yet: rules harness skipped"
fi

# --- run
status=0
for h in $harnesses; do
	mkdir -p "$out/corpus-$h"
	log=$out/$h.log
	dict=""
	[ -f "$out/$h.dict" ] && dict="-dict=$out/$h.dict"
	echo "fuzz: running $h for ${secs}s"
	# shellcheck disable=SC2086
	"$out/bin/$h" $dict -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix="$out/$h-" -print_final_stats=1 \
		"$out/corpus-$h" "$seeds/$h" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "fuzz: $h ok: ${runs:-?} runs, $cov, no crash"
	else
		status=1
		echo "fuzz: $h FAILED (exit $rc), see $log; artifacts:" $(ls "$out/$h-"* 2>/dev/null)
		grep -m3 -E 'ERROR|runtime error|SUMMARY' "$log"
	fi
done
exit $status
