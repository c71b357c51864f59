# Helpers for awk programs that read a kst stream (docs/stream.md).
# Use: LC_ALL=C awk -f tests/stream.awk -f PROGRAM.awk (LC_ALL=C: awk then
# counts bytes, as the stream's offsets do).

# A field with its \\ \t \n \r escapes undone.
function unesc(s,   o, i, c) {
	o = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\") {
			c = substr(s, ++i, 1)
			c = c == "n" ? "\n" : c == "t" ? "\t" : c == "r" ? "\r" : c
		}
		o = o c
	}
	return o
}
