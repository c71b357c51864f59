# The tags of the kinds in -v kinds="a b" with the bytes each covers:
# BLOCK KIND ATTRS RULE [TEXT], line breaks in TEXT shown as -v nl (a space
# by default). Needs tests/stream.awk before it.
BEGIN {
	FS = "\t"
	n = split(kinds, k, " ")
	for (i = 1; i <= n; i++)
		want[k[i]] = 1
	if (nl == "")
		nl = " "
}
$1 == "block" { text[$2] = unesc($6) }
$1 == "tag" && ($5 in want) {
	s = substr(text[$2], $3 + 1, $4 - $3); gsub(/\n/, nl, s)
	printf "%s\t%s\t%s\t%s\t[%s]\n", $2, $5, $6, $7, s
}
