#!/bin/sh
# Hostile but well-formed streams: one huge paragraph through every
# transformer. Each must finish within a CPU-time limit (a guard against
# quadratic behaviour that once made kst-refs take minutes), not a timing
# assertion: the limit is two orders of magnitude above the normal cost.
. tests/lib.sh
REFS=$KST_ROOT/transformers/kst-refs
COMMIT=$KST_ROOT/transformers/kst-commit
META=$KST_ROOT/transformers/kst-meta

phrase='Den Haag, 4 februari 2021 cbs.nl Kamerstuk 35 570 VIII, nr. 91 '
{
	printf 'kst\t1\nsource\t1\t1\t%064d\tbig.pdf\npage\t1\t595.00\t842.00\n' 0
	printf 'block\t1\tal\t1\t-\t'
	i=0
	while [ $i -lt 20000 ]; do printf '%s' "$phrase"; i=$((i + 1)); done
	printf '\n'
} > "$TMP/big.kst"

( ulimit -t 60; "$META" "$TMP/big.kst" | "$NOTES" | "$REFS" | "$COMMIT" > "$TMP/big.out" )
check_eq "1.2 MB paragraph: meta|notes|refs|commit finish within the CPU limit" $? 0
check_eq "every Kamerstuk reference of the huge paragraph is tagged" \
	"$(grep -c 'verwijzing.*parlId=kst-35570-VIII-91' "$TMP/big.out")" 20000
check_eq "every URL of the huge paragraph is tagged" \
	"$(grep -c 'verwijzing.*url=cbs.nl' "$TMP/big.out")" 20000
( ulimit -t 60; "$TOXML" "$TMP/big.out" > "$TMP/big.xml" )
check_eq "kst-xml writes the huge paragraph" $? 0
check "the huge paragraph's XML validates" "$VALIDATE" -q "$TMP/big.xml"
