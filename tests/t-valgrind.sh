#!/bin/sh
# Memory errors and definite leaks under valgrind, in the plain build only
# (the sanitizer tree has its own checks and does not run under valgrind).
# Each stage runs on the saved output of the one before it, on two real
# documents; reachable memory held by glib/poppler/libxml2 at exit is
# not a leak, so only definite leaks and errors count.
. tests/lib.sh
if [ "$KST_ROOT" != "." ]; then
	ok "valgrind skipped in $KST_ROOT (runs in the plain build)"
	exit 0
fi
if ! command -v valgrind >/dev/null 2>&1; then
	ok "valgrind skipped: not installed"
	exit 0
fi
# The plain build links the small stages statically, and valgrind cannot
# follow malloc into a static binary: check the same code linked dynamically
# (make dyn, which make check runs).
KST_ROOT=out/dyn
if [ ! -x "$KST_ROOT/bin/kst2xml" ]; then
	fail "valgrind: out/dyn is not built (make dyn)"
	exit 0
fi
EXTRACT=$KST_ROOT/extractors/kst-extract
VALIDATE=$KST_ROOT/bin/kst-validate
KST2XML=$KST_ROOT/bin/kst2xml
# A one-page motion (signatories, title block) and a three-page ministry
# letter (sender column, a footnote, a signature with function).
first=$CORPUS/kst/kst-32545-143.pdf
docs="$first $CORPUS/letters/kamerbrief-2011-03-01-draagmoederschap.pdf"
supp=""
[ -f tests/valgrind.supp ] && supp="--suppressions=tests/valgrind.supp"

# PCRE2's JIT code has no unwind information and its matcher reads stack
# slots it never wrote on purpose, so valgrind reports "conditional jump on
# uninitialised value" inside it with no frame of ours. Under valgrind the
# stages get a pcre2_jit_compile that declines (LD_PRELOAD shim), and PCRE2
# falls back to its interpreter, which valgrind checks like any other code.
nojit=""
cat >"$TMP/nojit.c" <<'EOC'
#include <stdint.h>
int pcre2_jit_compile_8(void *code, uint32_t options);
int pcre2_jit_compile_8(void *code, uint32_t options)
{
	(void)code; (void)options;
	return -45;	/* PCRE2_ERROR_JIT_BADOPTION: use the interpreter */
}
EOC
if ${CC:-cc} -shared -fPIC -o "$TMP/nojit.so" "$TMP/nojit.c" 2>/dev/null; then
	nojit="LD_PRELOAD=$TMP/nojit.so"
fi

vg() {	# name input-file-or-- program args...  -> output in $TMP/name.out
	name=$1 input=$2; shift 2
	if [ "$input" = "--" ]; then input=/dev/null; fi
	# shellcheck disable=SC2086
	env $nojit valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --error-exitcode=99 $supp \
		--log-file="$TMP/$name.vg" "$@" <"$input" >"$TMP/$name.out" 2>"$TMP/$name.err"
	st=$?
	if [ "$st" -eq 99 ] || [ -s "$TMP/$name.vg" ]; then
		fail "valgrind $name: errors or definite leaks"
		sed 's/^/# /' "$TMP/$name.vg" | head -40
		return 1
	fi
	if [ $st -ne 0 ]; then
		fail "valgrind $name: exit $st: $(head -1 "$TMP/$name.err")"
		return 1
	fi
	ok "valgrind $name: no errors, no definite leaks"
}

for doc in $docs; do
	if [ ! -f "$doc" ]; then
		ok "valgrind skipped: $doc not found"
		continue
	fi
	d=$(basename "$doc" .pdf)
	prev=""
	if [ -x "$EXTRACT" ]; then
		vg "kst-extract $d" -- "$EXTRACT" "$doc" && prev="$TMP/kst-extract $d.out"
	else
		ok "valgrind kst-extract skipped: not built"
	fi
	for s in kst-layout kst-meta kst-notes kst-refs kst-commit kst-xml; do
		p=$KST_ROOT/transformers/$s
		if [ ! -x "$p" ]; then
			ok "valgrind $s skipped: not built"
			continue
		fi
		if [ -z "$prev" ]; then
			ok "valgrind $s $d skipped: no input stream from the stage before"
			continue
		fi
		vg "$s $d" "$prev" "$p" && prev="$TMP/$s $d.out" || prev=""
	done
	if [ -x "$VALIDATE" ] && [ -n "$prev" ] && [ -s "$TMP/kst-xml $d.out" ]; then
		vg "kst-validate $d" -- "$VALIDATE" "$TMP/kst-xml $d.out"
	else
		ok "valgrind kst-validate $d skipped: not built or no XML"
	fi
done
doc=$first
st=0
[ -x "$KST2XML" ] && { "$KST2XML" "$doc" >/dev/null 2>&1 || st=$?; }
if [ -x "$KST2XML" ] && [ $st -ne 0 ]; then
	ok "valgrind kst2xml skipped: it fails without valgrind too (exit $st)"
elif [ -x "$KST2XML" ]; then
	vg kst2xml -- "$KST2XML" "$doc"
else
	ok "valgrind kst2xml skipped: not built"
fi
