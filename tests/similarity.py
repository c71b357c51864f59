#!/usr/bin/env python3
"""Body-text similarity, word by word (docs/eval.md).

    python3 tests/similarity.py OURS REFERENCE      # prints e.g. 0.9932

Each argument is one of
  - our XML (namespace urn:kst2xml:kamerstuk:1): the text of the blocks in
    inhoud, footnote markers (nootref) and footnotes (noten) left out;
  - an official XML (officiele-publicatie, op-xsd-2014): the body of the
    stuk (vrije-tekst, brief, ...) or, for answers to written questions, the
    question and answer texts; footnotes (noot) left out;
  - a fixture's NAME.blocks.tsv (from kst-typeset -e): its blocks except
    the date line (dagtekening), list items with their marker;
  - anything else: read as plain text (e.g. fixtures/NAME.expected.txt).

Similarity: both texts are NFC-normalised and split on white space into word
sequences A and B; M is the number of words in the matching blocks that
difflib.SequenceMatcher (autojunk off) finds between A and B, which is the
longest-common-subsequence in all but pathological cases; similarity is
2*M / (|A| + |B|), 1.0 for identical word sequences, 0.0 for nothing in
common. Punctuation and case count: "werkgele-genheid" is not
"werkgelegenheid" and a header left in a paragraph costs its words.
"""
import difflib
import re
import sys
import urllib.parse
import unicodedata
import xml.etree.ElementTree as ET

OURS_NS = "urn:kst2xml:kamerstuk:1"

# Official XML: elements whose text is never body text.
OFFICIAL_SKIP = {
    "noot", "stuknr", "titel", "datumtekst", "kamerstukkop", "kamervraagkop",
    "kamervraagnummer", "metadata", "dossier",
}
OURS_SKIP = {"nootref", "noten", "noot"}
# Inline elements (ours and the publisher's): no word break around them, so
# "2017–2018<nootref>1</nootref>." stays "2017–2018." Every other element is a
# block and ends a word.
INLINE = {
    "nootref", "verwijzing", "nadruk", "noot", "extref", "intref", "sup", "inf",
    "naam", "voornaam", "achternaam", "organisatie", "datum", "functie",
    "kamervraagonderwerp", "term", "unl", "omissie", "a",
}


def local(tag):
    """Element name without its namespace."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def collect(elem, skip, out):
    """Appends the text under elem to out, leaving out elements named in
    skip (their tail text, which belongs to the parent, is kept). Block
    boundaries become spaces so words never glue across blocks. A list item
    of ours starts with its printed marker (li@nr), as the publisher's
    li.nr does."""
    name = local(elem.tag)
    if name == "li" and elem.get("nr"):
        out.append(elem.get("nr") + " ")
    if elem.text and name not in skip:
        out.append(elem.text)
    for child in elem:
        block = local(child.tag) not in INLINE
        if block:
            out.append(" ")
        if local(child.tag) not in skip:
            collect(child, skip, out)
        if block:
            out.append(" ")
        if child.tail:
            out.append(child.tail)


def ours_body(root):
    out = []
    for inhoud in root.iter("{%s}inhoud" % OURS_NS):
        collect(inhoud, OURS_SKIP, out)
    return "".join(out)


def official_body(root):
    """The body of an officiele-publicatie."""
    out = []
    for stuk in root.iter("stuk"):
        collect(stuk, OFFICIAL_SKIP, out)
    for kv in root.iter("kamervragen"):
        collect(kv, OFFICIAL_SKIP, out)
    return "".join(out)


def body_text_of_tree(root):
    if root.tag.startswith("{%s}" % OURS_NS):
        return ours_body(root)
    return official_body(root)


# Blocks of a fixture's NAME.blocks.tsv (kst-typeset -e) that are not body.
NOT_BODY = {"dagtekening", "furniture", "voetnoot", "meta"}


def blocks_body(data):
    """Body of a fixture's NAME.blocks.tsv: KIND TAB ATTRS TEXT a line; list
    items start with their marker, as ours do."""
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        f = line.split("\t", 2)
        if len(f) < 3 or f[0] in NOT_BODY or f[0].startswith("#"):
            continue
        m = re.search(r"(?:^|&)marker=([^&]*)", f[1])
        if f[0] == "li" and m:
            out.append(urllib.parse.unquote(m.group(1)))
        out.append(unescape_field(f[2]))
    return "\n".join(out)


def unescape_field(text):
    """A blocks.tsv TEXT field writes a forced line break as \\n (and a
    backslash as \\\\), like the kst stream."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def body_text(path):
    """Body text of a file of any of the kinds above."""
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".blocks.tsv"):
        return blocks_body(data)
    head = data[:512].lstrip()
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        try:
            return body_text_of_tree(ET.fromstring(data))
        except ET.ParseError:
            pass
    return data.decode("utf-8", "replace")


def words(text):
    return unicodedata.normalize("NFC", text).split()


def matched_words(a, b):
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in sm.get_matching_blocks())


def similarity(text_a, text_b):
    """2*M / (|A|+|B|) over the word sequences of two texts."""
    a, b = words(text_a), words(text_b)
    if not a and not b:
        return 1.0
    return 2.0 * matched_words(a, b) / (len(a) + len(b))


def diff_words(text_a, text_b, context=4):
    """Human-readable differences, for --diff."""
    a, b = words(text_a), words(text_b)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    lines = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        before = " ".join(a[max(0, i1 - context):i1])
        lines.append("%s @%d: …%s [-%s-] {+%s+}" % (
            op, i1, before, " ".join(a[i1:i2]), " ".join(b[j1:j2])))
    return lines


def main(argv):
    args = argv[1:]
    show_diff = "--diff" in args
    args = [a for a in args if a != "--diff"]
    if len(args) != 2 or args[0] in ("-h", "--help"):
        sys.stderr.write("usage: similarity.py [--diff] OURS REFERENCE\n")
        return 2
    try:
        a, b = body_text(args[0]), body_text(args[1])
    except OSError as e:
        sys.stderr.write("similarity.py: %s: %s\n" % (e.filename, e.strerror))
        return 3
    print("%.4f" % similarity(a, b))
    if show_diff:
        for line in diff_words(a, b):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
