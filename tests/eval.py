#!/usr/bin/env python3
"""make eval: conversion quality against the corpus ground truth.

    python3 tests/eval.py                   table on stdout, TSV in out/eval.tsv
    python3 tests/eval.py --check           TAP lines: every metric against its floor
    python3 tests/eval.py --score OURS.xml GOLD.tsv|OFFICIAL.xml [REFERENCE]
                                            one XML of ours against one ground truth
    python3 tests/eval.py --update-floors [--force]
                                            raise floors to the current figures
                                            (--force also lowers them)

Options: --root DIR (build tree, default $KST_ROOT or .), --corpus DIR
(default $CORPUS or ../shared/corpus), --keep DIR (where converted XML goes,
default out/eval). docs/eval.md explains every column.
"""
import os
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import similarity  # noqa: E402

NS = "{urn:kst2xml:kamerstuk:1}"
FLOORS = "tests/eval-floors.tsv"
METRICS = ["meta", "notes_found", "notes_exact", "notes_linked",
           "refs_recall", "refs_precision", "tz_recall", "tz_precision",
           "tz_kind", "similarity"]
BLOCKS = {"al", "kop", "li", "aanhef", "slotformulering", "ondertekening"}
STAGES = ["transformers/kst-layout", "transformers/kst-meta",
          "transformers/kst-notes", "transformers/kst-refs",
          "transformers/kst-commit", "transformers/kst-xml"]


# ---------------------------------------------------------------- helpers

def norm(s):
    """NFC, white space collapsed, case folded: how values are compared."""
    s = unicodedata.normalize("NFC", s or "")
    return " ".join(s.split()).casefold()


def local(tag):
    return similarity.local(tag)


def text_of(elem, skip=()):
    out = []
    similarity.collect(elem, set(skip), out)
    return " ".join("".join(out).split())


def norm_id(s):
    """Normalised identifier of a reference: no white space, case folded,
    no URL scheme, no leading www., no trailing dot or slash."""
    s = unicodedata.normalize("NFC", s or "")
    s = "".join(s.split()).casefold()
    s = re.sub(r"^[a-z]+://", "", s)
    s = re.sub(r"^www\.", "", s)
    return s.rstrip("./")


class Ratio:
    """num/den; den 0 means 'not measured here' (printed as -)."""

    def __init__(self, num=0, den=0):
        self.num, self.den = num, den

    def value(self):
        return self.num / self.den if self.den else None

    def cell(self):
        return "%d/%d" % (self.num, self.den) if self.den else "-"

    def add(self, other):
        self.num += other.num
        self.den += other.den


# ---------------------------------------------------------------- ground truth

class Truth:
    def __init__(self):
        self.meta = []          # (field, value)
        self.notes = []         # (nr, anchor or None, text)
        self.refs = []          # (type, id, optional)
        self.tz = []            # (kind, phrase, optional)
        self.reference = None   # path of the reference body text


def read_gold(path, truth):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            f_ = line.split("\t")
            kind = f_[0]
            optional = kind.endswith("?")
            kind = kind.rstrip("?")
            if kind == "meta" and len(f_) >= 3:
                truth.meta.append((f_[1], f_[2]))
            elif kind == "noot" and len(f_) >= 4:
                anchor = None if f_[2] == "-" else f_[2]
                truth.notes.append((f_[1], anchor, f_[3]))
            elif kind == "ref" and len(f_) >= 3:
                truth.refs.append((f_[1], f_[2], optional))
            elif kind == "tz" and len(f_) >= 3:
                truth.tz.append((f_[1], f_[2], optional))


def dossier_id(printed):
    """'32 545' -> 32545, '35 570 VIII' -> 35570-VIII, '21 501-02' -> 21501-02."""
    s = re.sub(r"(?<=\d) (?=\d)", "", printed.strip())
    return re.sub(r"\s+", "-", s)


def read_official(path, truth):
    """Expected metadata, notes and references from the publisher's XML."""
    root = ET.parse(path).getroot()
    m = re.search(r"/((?:kst|ah-tk|blg|stcrt|stb)-[^/]+)/metadata\.xml",
                  ET.tostring(root, encoding="unicode")[:4000])
    if m:
        truth.meta.append(("parlId", m.group(1)))
    for tr in root.iter("tekstregel"):
        if tr.get("inhoud") == "vergaderjaar":
            y = re.search(r"(\d{4})\s*[-–]\s*(\d{4})", tr.text or "")
            if y:
                truth.meta.append(("vergaderjaar", "%s-%s" % y.groups()))
    for dn in root.iter("dossiernr"):
        truth.meta.append(("dossier", dossier_id(dn.text or "")))
    for stuk in root.iter("stuk"):
        for on in stuk.iter("ondernummer"):
            truth.meta.append(("ondernummer", (on.text or "").strip()))
        for t in stuk.findall("titel"):
            truth.meta.append(("titel", text_of(t)))
        for dt in stuk.iter("datumtekst"):
            for d in dt.iter("datum"):
                truth.meta.append(("datum", d.get("isodatum", "")))
        for grp in stuk.iter("al-groep"):
            for al in grp.findall("al"):
                truth.meta.append(("ondertekenaar", text_of(al)))
    for kvn in root.iter("kamervraagnummer"):
        truth.meta.append(("ondernummer", (kvn.text or "").strip()))
    mpath = path[:-4] + ".metadata.xml"
    if os.path.exists(mpath):
        for md in ET.parse(mpath).getroot():
            if md.get("scheme") == "OVERHEIDop.KamerstukTypen":
                truth.meta.append(("documentsoort", md.get("content", "")))
    for noot in root.iter("noot"):
        nr = noot.find("noot.nr")
        nrtext = (nr.text or "").strip() if nr is not None else ""
        body = text_of(noot, skip=("noot.nr",))
        truth.notes.append((nrtext, None, body))
    for ext in root.iter("extref"):
        ident = ext.get("doc") or text_of(ext)
        truth.refs.append(("extref", ident, True))
    truth.reference = path


def documents(corpus):
    """(name, pdf, Truth) for every document with ground truth."""
    docs = []
    kst = os.path.join(corpus, "kst")
    if os.path.isdir(kst):
        for f in sorted(os.listdir(kst)):
            if f.endswith(".pdf") and os.path.exists(os.path.join(kst, f[:-4] + ".xml")):
                t = Truth()
                read_official(os.path.join(kst, f[:-4] + ".xml"), t)
                docs.append((f[:-4], os.path.join(kst, f), t))
    letters = os.path.join(corpus, "letters")
    if os.path.isdir(letters):
        for f in sorted(os.listdir(letters)):
            gold = os.path.join(letters, f[:-4] + ".gold.tsv")
            if f.endswith(".pdf") and os.path.exists(gold):
                t = Truth()
                read_gold(gold, t)
                docs.append((f[:-4], os.path.join(letters, f), t))
    seed_gold = os.path.join(corpus, "seed", "kst-34843-45.gold.tsv")
    if os.path.exists(seed_gold):
        t = Truth()
        read_gold(seed_gold, t)
        for ref in ("fixtures/seed-kst-34843-45.blocks.tsv",
                    "fixtures/seed-kst-34843-45.expected.txt"):
            if os.path.exists(ref):
                t.reference = ref
                break
        docs.append(("seed-kst-34843-45", "fixtures/seed-kst-34843-45.pdf", t))
    scan_xml = os.path.join(corpus, "scanned", "kst-35851-71.xml")
    scan_pdf = os.path.join(corpus, "scanned", "tk-motie-35851-71-scan.pdf")
    if os.path.exists(scan_xml) and os.path.exists(scan_pdf):
        t = Truth()
        read_official(scan_xml, t)
        docs.append(("tk-motie-35851-71-scan", scan_pdf, t))
    return docs


# ---------------------------------------------------------------- conversion

def built_stages(root):
    """Names of the stages built in root, in chain order."""
    names = []
    for s in ["extractors/kst-extract"] + STAGES:
        if os.access(os.path.join(root, s), os.X_OK):
            names.append(os.path.basename(s))
    return names


def pipeline(root):
    """The ways to convert a PDF, best first: bin/kst2xml running every
    built stage (its default chain may lag behind the stages that exist),
    then the same stages chained here. Empty when nothing can make XML."""
    ways = []
    names = built_stages(root)
    if "kst-extract" not in names or "kst-xml" not in names:
        return ways
    porcelain = os.path.join(root, "bin/kst2xml")
    if os.access(porcelain, os.X_OK):
        ways.append([[porcelain, "--stages", ",".join(names)]])
    chain = [[os.path.join(root, "extractors/kst-extract")]]
    for s in STAGES:
        if os.path.basename(s) in names:
            chain.append([os.path.join(root, s)])
    ways.append(chain)
    return ways


def describe(ways):
    if not ways:
        return "pipeline: none built"
    return "pipeline: " + " | ".join(" ".join(os.path.basename(a) if i == 0 else a
                                              for i, a in enumerate(argv))
                                     for argv in ways[0])


def convert_any(ways, pdf, dest):
    """Converts with the first way that runs; a porcelain that cannot find
    its stages (exit 13, KST_ESTAGE) gives way to the stage chain."""
    xml, problem = None, "no pipeline built"
    for chain in ways:
        xml, problem = convert(chain, pdf, dest)
        if problem is None or " exit 13:" not in problem:
            break
    return xml, problem


def convert(chain, pdf, dest):
    """Runs the chain on pdf; returns (xml bytes or None, problem)."""
    procs = []
    prev = None
    for i, argv in enumerate(chain):
        args = argv + [pdf] if i == 0 else argv
        p = subprocess.Popen(args, stdin=prev, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        if prev is not None:
            prev.close()
        prev = p.stdout
        procs.append(p)
    out = procs[-1].stdout.read()
    procs[-1].stdout.close()
    problem = None
    for argv, p in zip(chain, procs):
        err = p.stderr.read().decode("utf-8", "replace").strip()
        p.stderr.close()
        if p.wait() != 0 and problem is None:
            problem = "%s exit %d: %s" % (os.path.basename(argv[0]),
                                          p.returncode, err.splitlines()[-1] if err else "")
    if problem:
        return None, problem
    with open(dest, "wb") as f:
        f.write(out)
    return out, None


# ---------------------------------------------------------------- scoring

def our_meta(meta):
    """field -> list of values, in the gold files' vocabulary."""
    got = {}

    def put(k, v):
        if v is not None:
            got.setdefault(k, []).append(v)

    if meta is None:
        return got
    for e in meta.iter():
        name = local(e.tag)
        if name in ("parlId", "ondernummer", "vergaderjaar", "documentsoort",
                    "titel", "geadresseerde", "onderwerp", "kenmerk"):
            put(name, text_of(e))
        elif name == "dossier":
            nr, toev = e.get("nummer", ""), e.get("toevoeging")
            put("dossier", nr if not toev else nr + "-" + toev)
        elif name == "dagtekening":
            put("datum", e.get("datum"))
        elif name == "ondertekenaar":
            for sub in e:
                if local(sub.tag) in ("naam", "functie"):
                    put("ondertekenaar" if local(sub.tag) == "naam" else "functie",
                        text_of(sub))
        elif name == "medeNamens":
            put("medeNamens_items", text_of(e))
    got["medeNamens"] = [str(len(got.get("medeNamens_items", [])))]
    return got


def score_meta(truth, root):
    meta = root.find(NS + "meta") if root is not None else None
    got = our_meta(meta)
    pool = {k: [norm(v) for v in vs] for k, vs in got.items()}
    r = Ratio(0, len(truth.meta))
    misses = []
    for field, want in truth.meta:
        values = pool.get(field, [])
        key = norm(want)
        if field == "dossier":
            key = norm(want.replace(" ", "-"))
        if key in values:
            values.remove(key)      # each signatory counts once
            r.num += 1
        else:
            misses.append("%s=%s (got %s)" % (field, want, "|".join(got.get(field, [])) or "none"))
    return r, misses


def block_parents(root):
    parent = {}
    for p in root.iter():
        for c in p:
            parent[c] = p
    return parent


def text_before(block, marker):
    """Text of block up to marker, other footnote markers left out."""
    out = []

    def walk(e):
        if e is marker:
            return True
        if local(e.tag) == "nootref":
            return False
        if e.text:
            out.append(e.text)
        for c in e:
            if walk(c):
                return True
            if c.tail:
                out.append(c.tail)
        return False

    walk(block)
    return "".join(out)


def score_notes(truth, root):
    found, exact, linked = (Ratio(0, len(truth.notes)) for _ in range(3))
    misses = []
    if root is None or not truth.notes:
        return found, exact, linked, misses
    parent = block_parents(root)
    notes = {}
    for n in root.iter(NS + "noot"):
        notes.setdefault(n.get("nr", ""), n)
    refs = {}
    for nr in root.iter(NS + "nootref"):
        refs.setdefault(nr.get("noot", ""), []).append(nr)
    for nr, anchor, want in truth.notes:
        n = notes.get(nr)
        if n is None:
            misses.append("noot %s not found" % nr)
            continue
        found.num += 1
        got = norm(text_of(n))
        w = norm(want)
        if (w.endswith("…") and got.startswith(w[:-1].rstrip())) or got == w:
            exact.num += 1
        else:
            misses.append("noot %s text: %s" % (nr, text_of(n)[:80]))
        ok = False
        for ref in refs.get(n.get("id", ""), []):
            if anchor is None:
                ok = True
                break
            block = ref
            while block in parent and local(block.tag) not in BLOCKS:
                block = parent[block]
            if norm(text_before(block, ref)).endswith(norm(anchor)):
                ok = True
                break
        if ok:
            linked.num += 1
        else:
            misses.append("noot %s not linked after %r" % (nr, anchor))
    return found, exact, linked, misses


PRIMARY = ("parlId", "url", "eu", "celex", "bwb", "ecli", "stb", "stcrt", "trb",
           "handelingen", "id")


def score_refs(truth, root):
    required = {norm_id(i) for t, i, opt in truth.refs if not opt}
    optional = {norm_id(i) for t, i, opt in truth.refs if opt} - required
    recall = Ratio(0, len(required))
    precision = Ratio()
    misses = []
    if root is None:
        return recall, precision, misses
    seen = {}
    for v in root.iter(NS + "verwijzing"):
        cands = {norm_id(val) for k, val in v.attrib.items() if k != "type"}
        cands.add(norm_id(text_of(v)))
        key = next((norm_id(v.get(k)) for k in PRIMARY if v.get(k)), norm_id(text_of(v)))
        seen.setdefault(key, set()).update(cands)
    hit = set()
    for key, cands in seen.items():
        if cands & required:
            hit |= cands & required
            precision.num += 1
            precision.den += 1
        elif cands & optional:
            continue            # optional: neither required nor wrong
        else:
            precision.den += 1
            misses.append("ref extra: %s" % key)
    recall.num = len(hit)
    for t, i, opt in truth.refs:
        if not opt and norm_id(i) not in hit:
            misses.append("ref missed: %s %s" % (t, i))
    return recall, precision, misses


def score_tz(truth, root):
    required = [(k, norm(p)) for k, p, opt in truth.tz if not opt]
    optional = [(k, norm(p)) for k, p, opt in truth.tz if opt]
    recall, precision, kind = Ratio(0, len(required)), Ratio(), Ratio()
    misses = []
    if root is None:
        return recall, precision, kind, misses
    found = []
    for holder in root.iter(NS + "toezeggingen"):
        for e in holder:
            if local(e.tag) in ("toezegging", "nakoming"):
                t = e.find(NS + "tekst")
                found.append((local(e.tag), norm(text_of(t if t is not None else e))))
    for k, phrase in required:
        matches = [fk for fk, text in found if phrase in text]
        if matches:
            recall.num += 1
            kind.den += 1
            if k in matches:
                kind.num += 1
            else:
                misses.append("tz kind: %s is %s" % (phrase, matches[0]))
        else:
            misses.append("tz missed: %s %s" % (k, phrase))
    for fk, text in found:
        if any(p in text for k, p in required):
            precision.num += 1
            precision.den += 1
        elif not any(p in text for k, p in optional):
            precision.den += 1
            misses.append("tz extra: %s %s" % (fk, text[:60]))
    return recall, precision, kind, misses


def score(name, root, truth, status="ok"):
    """The table row of one converted document (root: its XML or None)."""
    row = {"doc": name, "status": status}
    row["meta"], m1 = score_meta(truth, root)
    row["notes_found"], row["notes_exact"], row["notes_linked"], m2 = score_notes(truth, root)
    row["refs_recall"], row["refs_precision"], m3 = score_refs(truth, root)
    row["tz_recall"], row["tz_precision"], row["tz_kind"], m4 = score_tz(truth, root)
    sim = None
    if truth.reference:
        ours = similarity.body_text_of_tree(root) if root is not None else ""
        sim = similarity.similarity(ours, similarity.body_text(truth.reference))
    row["similarity"] = sim
    row["misses"] = m1 + m2 + m3 + m4
    return row


def score_one(xml_path, truth_path, reference=None):
    """--score: one XML of ours against a gold file or an official XML."""
    truth = Truth()
    if truth_path.endswith(".tsv"):
        read_gold(truth_path, truth)
    else:
        read_official(truth_path, truth)
    if reference:
        truth.reference = reference
    root = ET.parse(xml_path).getroot()
    name = os.path.basename(xml_path).rsplit(".", 1)[0]
    return score(name, root, truth)


def evaluate(name, pdf, truth, chain, keep):
    status = "ok"
    root = None
    if not os.path.exists(pdf):
        status = "no input %s" % pdf
    elif not chain:
        status = "no pipeline built"
    else:
        dest = os.path.join(keep, name + ".xml")
        xml, problem = convert_any(chain, pdf, dest)
        if problem:
            status = problem
        else:
            try:
                root = ET.fromstring(xml)
            except ET.ParseError as e:
                status = "bad XML: %s" % e
    return score(name, root, truth, status)


# ---------------------------------------------------------------- output

HEAD = ["document", "meta", "notes", "exact", "linked", "refs R", "refs P",
        "tz R", "tz P", "tz kind", "similarity"]


def cells(row):
    sim = row["similarity"]
    return [row["doc"]] + [row[m].cell() for m in METRICS[:-1]] + \
        ["%.4f" % sim if sim is not None else "-"]


def totals(rows):
    t = {"doc": "TOTAL", "status": ""}
    for m in METRICS[:-1]:
        t[m] = Ratio()
        for r in rows:
            t[m].add(r[m])
    sims = [r["similarity"] for r in rows if r["similarity"] is not None]
    t["similarity"] = sum(sims) / len(sims) if sims else None
    return t


def print_table(rows, out):
    table = [HEAD] + [cells(r) for r in rows] + [cells(totals(rows))]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEAD))]
    for i, r in enumerate(table):
        if i == len(table) - 1:
            out.write("-" * (sum(widths) + 2 * len(widths)) + "\n")
        out.write("  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                            for j, (c, w) in enumerate(zip(r, widths))).rstrip() + "\n")
    for r in rows:
        if r["status"] != "ok":
            out.write("%s: %s\n" % (r["doc"], r["status"]))


def write_tsv(rows, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\t".join(["document"] + METRICS + ["status"]) + "\n")
        for r in rows + [totals(rows)]:
            f.write("\t".join(cells(r) + [r["status"]]) + "\n")


def value(row, metric):
    if metric == "similarity":
        return row["similarity"]
    return row[metric].value()


# ---------------------------------------------------------------- floors

def read_floors(path):
    floors = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                doc, metric, v = line.rstrip("\n").split("\t")[:3]
                floors[(doc, metric)] = float(v)
    return floors


def write_floors(path, floors):
    with open(path, "w", encoding="utf-8") as f:
        f.write("# document\tmetric\tminimum accepted value (tests/t-eval.sh; "
                "raise with: python3 tests/eval.py --update-floors)\n")
        for (doc, metric), v in sorted(floors.items()):
            f.write("%s\t%s\t%.4f\n" % (doc, metric, v))


def round_down(v):
    return int(v * 10000 + 1e-9) / 10000.0


def update_floors(rows, path, force):
    floors = read_floors(path)
    if force:
        floors = {}
    for r in rows:
        for m in METRICS:
            v = value(r, m)
            if v is None:
                continue
            v = round_down(v)
            old = floors.get((r["doc"], m))
            if old is None or v > old:
                floors[(r["doc"], m)] = v
            elif v < old:
                sys.stderr.write("eval.py: %s %s: %.4f below floor %.4f (kept; --force lowers)\n"
                                 % (r["doc"], m, v, old))
    write_floors(path, floors)


def check_floors(rows, path):
    floors = read_floors(path)
    byname = {r["doc"]: r for r in rows}
    failed = 0
    for (doc, metric), floor in sorted(floors.items()):
        r = byname.get(doc)
        v = value(r, metric) if r else None
        if v is not None and v + 1e-9 >= floor:
            print("ok - eval %s %s %.4f >= %.4f" % (doc, metric, v, floor))
        else:
            failed += 1
            why = "not measured (%s)" % (r["status"] if r else "no document") if v is None else "%.4f" % v
            print("not ok - eval %s %s %s below floor %.4f" % (doc, metric, why, floor))
    if not floors:
        print("ok - eval: no floors in %s" % path)
    return failed


# ---------------------------------------------------------------- main

def main(argv):
    args = argv[1:]
    opts = {"--root": os.environ.get("KST_ROOT", "."),
            "--corpus": os.environ.get("CORPUS", "../shared/corpus"),
            "--keep": "out/eval", "--tsv": "out/eval.tsv", "--floors": FLOORS}
    flags = set()
    i = 0
    while i < len(args):
        a = args[i]
        if a in opts and i + 1 < len(args):
            opts[a] = args[i + 1]
            i += 2
            continue
        if a == "--score" and i + 2 < len(args):
            extra = args[i + 3] if i + 3 < len(args) and not args[i + 3].startswith("-") else None
            row = score_one(args[i + 1], args[i + 2], extra)
            print_table([row], sys.stdout)
            for m in row["misses"]:
                print("%s: %s" % (row["doc"], m))
            return 0
        if a in ("--check", "--update-floors", "--force", "--verbose", "-v"):
            flags.add(a)
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            sys.stderr.write("eval.py: unknown argument %s\n" % a)
            return 2
        i += 1
    os.makedirs(opts["--keep"], exist_ok=True)
    chain = pipeline(opts["--root"])
    rows = [evaluate(n, p, t, chain, opts["--keep"])
            for n, p, t in documents(opts["--corpus"])]
    if "--check" in flags:
        return 1 if check_floors(rows, opts["--floors"]) else 0
    print(describe(chain))
    print_table(rows, sys.stdout)
    write_tsv(rows, opts["--tsv"])
    if "--verbose" in flags or "-v" in flags:
        for r in rows:
            for m in r["misses"]:
                print("%s: %s" % (r["doc"], m))
    if "--update-floors" in flags:
        update_floors(rows, opts["--floors"], "--force" in flags)
        print("floors written to %s" % opts["--floors"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
