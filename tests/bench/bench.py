#!/usr/bin/env python3
"""Speed and memory of kst2xml against pdftotext, mutool and pdfminer.six.

Run through tests/bench.sh (make bench), which installs the comparison
tools. Every figure comes from os.wait4(): CPU time is the child's user+sys
time including every process it waited for (a whole pipe under sh -c), peak
memory is ru_maxrss, the largest resident set of any process of that tree.
docs/eval.md explains the tables.

    python3 tests/bench/bench.py [--runs N] [--max-docs N] [--out FILE]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("KST_ROOT", ".")
CORPUS = os.environ.get("CORPUS", "../shared/corpus")
STAGES = ["transformers/kst-layout", "transformers/kst-meta",
          "transformers/kst-notes", "transformers/kst-refs",
          "transformers/kst-commit", "transformers/kst-xml"]
OUT = []


def say(line=""):
    print(line, flush=True)
    OUT.append(line)


def measure(argv, stdin=None, stdout=None):
    """(cpu seconds, peak RSS KiB, wall seconds, exit status) of one run."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=stdin or subprocess.DEVNULL,
                         stdout=stdout or subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss, wall, p.returncode


def pages_of(pdf):
    try:
        out = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True).stdout
    except OSError:
        return 1
    for line in out.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return 1


def inputs():
    pdfs = []
    for d in (os.path.join(CORPUS, "kst"), os.path.join(CORPUS, "letters"), "fixtures"):
        if os.path.isdir(d):
            pdfs += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".pdf"))
    return pdfs


def built(rel):
    p = os.path.join(ROOT, rel)
    return p if os.access(p, os.X_OK) else None


def works(argv):
    """bin/kst2xml converts the first input (it needs every stage built)."""
    pdfs = inputs()
    return bool(pdfs) and measure(argv + [pdfs[0]])[3] == 0


def chain_cmd():
    """A shell command template converting "$1" to stdout, or None."""
    porcelain = built("bin/kst2xml")
    names = [os.path.basename(s) for s in ["extractors/kst-extract"] + STAGES if built(s)]
    if porcelain and works([porcelain, "--stages", ",".join(names)]):
        return [porcelain, "--stages", ",".join(names)], "bin/kst2xml"
    extract, toxml = built("extractors/kst-extract"), built("transformers/kst-xml")
    if not (extract and toxml):
        return None, None
    parts = [extract + ' "$1"'] + [p for p in (built(s) for s in STAGES) if p]
    script = " | ".join(parts)
    return ["sh", "-c", script, "sh"], "stage chain"


def tools():
    t = []
    if shutil.which("pdftotext"):
        t.append(("pdftotext", lambda f: ["pdftotext", "-enc", "UTF-8", f, "-"]))
    if shutil.which("mutool"):
        t.append(("mutool draw -F txt", lambda f: ["mutool", "draw", "-q", "-F", "txt", "-o", "-", f]))
    pm = shutil.which("pdf2txt") or shutil.which("pdf2txt.py")
    if pm:
        t.append(("pdfminer.six", lambda f: [pm, f]))
    return t


def pdfminer_one_process(pdfs, runs):
    """pdfminer.six with its start-up paid once: all PDFs in one process."""
    script = ("import sys\nfrom pdfminer.high_level import extract_text\n"
              "for f in sys.argv[1:]:\n    extract_text(f)\n")
    python = pdfminer_python()
    if python is None:
        return None
    cpus = [measure([python, "-c", script] + pdfs)[0] for _ in range(runs)]
    return statistics.median(cpus)


def pdfminer_python():
    """The interpreter pdf2txt runs under (its #! line), which has pdfminer."""
    pm = shutil.which("pdf2txt") or shutil.which("pdf2txt.py")
    if not pm:
        return None
    with open(pm, "rb") as f:
        first = f.readline().decode("utf-8", "replace").strip()
    python = first[2:].split()[0] if first.startswith("#!") else "python3"
    if subprocess.run([python, "-c", "import pdfminer"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        return None
    return python


def our_tool(t):
    ours, label = chain_cmd()
    if ours:
        t.append(("kst2xml (%s)" % label, lambda f: ours + [f]))
    return t


def over_set(make_argv, pdfs):
    """One pass over the set: total CPU, max peak RSS, failures."""
    cpu, rss, bad = 0.0, 0, 0
    for f in pdfs:
        c, r, _, st = measure(make_argv(f))
        cpu += c
        rss = max(rss, r)
        bad += st != 0
    return cpu, rss, bad


def fmt_kib(k):
    return "%.1f MiB" % (k / 1024.0)


def compare(pdfs, pages, runs):
    say("== Tools on the same %d PDFs (%d pages), median of %d runs, CPU = user+sys"
        % (len(pdfs), pages, runs))
    results = {}
    for name, make in our_tool(tools()):
        cpus, rsss, bad = [], [], 0
        for _ in range(runs):
            c, r, b = over_set(make, pdfs)
            cpus.append(c)
            rsss.append(r)
            bad = max(bad, b)
        results[name] = (statistics.median(cpus), statistics.median(rsss), bad)
    ours = next((k for k in results if k.startswith("kst2xml")), None)
    say("%-28s %10s %12s %12s %14s %10s" % ("tool", "CPU s", "pages/s", "ms/page",
                                            "peak RSS", "vs ours"))
    for name, (cpu, rss, bad) in results.items():
        ratio = "-"
        if ours and results[ours][0] > 0:
            ratio = "%.2fx" % (cpu / results[ours][0])
        say("%-28s %10.3f %12.1f %12.2f %14s %10s%s" % (
            name, cpu, pages / cpu if cpu else 0, 1000 * cpu / pages, fmt_kib(rss), ratio,
            "  (%d failed)" % bad if bad else ""))
    cpu = pdfminer_one_process(pdfs, runs)
    if cpu:
        ratio = "%.2fx" % (cpu / results[ours][0]) if ours and results[ours][0] else "-"
        say("%-28s %10.3f %12.1f %12.2f %14s %10s" % (
            "pdfminer.six, one process", cpu, pages / cpu if cpu else 0,
            1000 * cpu / pages, "-", ratio))
        results["pdfminer.six, one process"] = (cpu, 0, 0)
    say("(vs ours: the tool's CPU time divided by ours; > 1 means we are faster)")
    if ours and results[ours][2]:
        say("WARNING: %d of %d documents failed to convert: our figures are not valid"
            % (results[ours][2], len(pdfs)))
    if not ours:
        say("kst2xml: not built yet (need extractors/kst-extract and transformers/kst-xml)")
    return results, ours


def startup_costs(runs, tmp):
    """Fixed cost of starting each program: per document we start seven."""
    empty = os.path.join(tmp, "empty.kst")
    with open(empty, "w") as f:
        f.write("kst\t1\n")
    progs = [("pdftotext -v", ["pdftotext", "-v"], None)]
    if built("extractors/kst-extract"):
        progs.append(("kst-extract --version", [built("extractors/kst-extract"), "--version"], None))
    for s in STAGES:
        if built(s):
            progs.append((os.path.basename(s) + " (empty stream)", [built(s)], empty))
    if built("bin/kst2xml"):
        progs.append(("kst2xml --version", [built("bin/kst2xml"), "--version"], None))
    say("== Start-up cost of each program (CPU ms, median of %d runs)" % max(runs, 9))
    for name, argv, inp in progs:
        cpus = []
        for _ in range(max(runs, 9)):
            if inp:
                with open(inp, "rb") as f:
                    cpus.append(measure(argv, stdin=f)[0])
            else:
                cpus.append(measure(argv)[0])
        say("%-34s %8.2f" % (name, 1000 * statistics.median(cpus)))


def stage_costs(pdfs, runs, tmp):
    extract = built("extractors/kst-extract")
    if not extract:
        say("== Stage costs: extractors/kst-extract not built")
        return
    # kst2xml also validates its XML: bin/kst-validate is the last stage.
    stages = [("extractors/kst-extract", extract)] + \
        [(s, built(s)) for s in STAGES + ["bin/kst-validate"] if built(s)]
    say("== Cost of each stage (on the saved output of the previous one), median of %d runs"
        % runs)
    # Save every stage's output once, then time each stage from its saved input.
    saved = {}
    for f in pdfs:
        prev = None
        for i, (name, prog) in enumerate(stages):
            dest = os.path.join(tmp, "%s.%d" % (os.path.basename(f), i))
            with open(dest, "wb") as out:
                if i == 0:
                    st = subprocess.run([prog, f], stdout=out, stderr=subprocess.DEVNULL).returncode
                else:
                    with open(prev, "rb") as inp:
                        st = subprocess.run([prog], stdin=inp, stdout=out,
                                            stderr=subprocess.DEVNULL).returncode
            if st != 0:
                break
            saved[(f, i)] = dest
            prev = dest
    total = 0.0
    rows = []
    for i, (name, prog) in enumerate(stages):
        cpus, rsss, nbytes = [], [], 0
        for _ in range(runs):
            cpu, rss = 0.0, 0
            for f in pdfs:
                if i == 0:
                    c, r, _, _ = measure([prog, f])
                elif (f, i - 1) in saved:
                    with open(saved[(f, i - 1)], "rb") as inp:
                        c, r, _, _ = measure([prog], stdin=inp)
                else:
                    continue
                cpu += c
                rss = max(rss, r)
            cpus.append(cpu)
            rsss.append(rss)
        for f in pdfs:
            if (f, i) in saved:
                nbytes += os.path.getsize(saved[(f, i)])
        cpu = statistics.median(cpus)
        total += cpu
        rows.append((name, cpu, statistics.median(rsss), nbytes))
    say("%-28s %10s %8s %14s %14s" % ("stage", "CPU s", "share", "peak RSS", "output"))
    for name, cpu, rss, nbytes in rows:
        say("%-28s %10.3f %7.1f%% %14s %11.1f KiB" % (
            name, cpu, 100 * cpu / total if total else 0, fmt_kib(rss), nbytes / 1024.0))
    say("%-28s %10.3f" % ("sum", total))


def has_batch(porcelain):
    try:
        h = subprocess.run([porcelain, "--help"], capture_output=True, text=True)
    except OSError:
        return False
    text = h.stdout + h.stderr
    return "-j" in text and "-o" in text


def machine_parallelism():
    """Wall-time speed-up of two independent busy loops run at once over
    the same two one after the other: 2.0 on two free cores. Calibrates the
    -j2 figure on a shared or throttled machine."""
    loop = "i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); done"
    seq = measure(["sh", "-c", "(%s); (%s)" % (loop, loop)])[2]
    par = measure(["sh", "-c", "(%s) & (%s) & wait" % (loop, loop)])[2]
    return seq / par if par else 0.0


def reps(n):
    """Runs per scaling point: medians of 3 up to 100 documents, 1 above."""
    return 3 if n <= 100 else 1


def scaling(pdfs, counts, tmp):
    ours, label = chain_cmd()
    if not ours:
        say("== Scaling: pipeline not built")
        return None
    say("== Scaling: N documents (the set repeated), wall and CPU time, peak RSS of any process")
    porcelain = built("bin/kst2xml") if label == "bin/kst2xml" else None
    batch = porcelain and has_batch(porcelain)
    say("   %s" % " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(ours)))
    say("   driver: %s" % ("kst2xml -o DIR -j N" if batch else "xargs -P N (one %s a document)" % label))
    say("   (median of 3 runs up to 100 documents, one run above; after one warm-up pass)")
    results_machine = statistics.median(machine_parallelism() for _ in range(3))
    say("   machine: two independent busy loops run %.2f x faster side by side than one"
        " after the other (2.00 on two free cores)" % results_machine)
    for f in pdfs:
        measure(ours + [f])
    say("%8s %4s %10s %10s %12s %14s %10s" % ("docs", "-j", "wall s", "CPU s", "ms/doc wall",
                                              "peak RSS", "speed-up"))
    results = {}
    for n in counts:
        files = [pdfs[i % len(pdfs)] for i in range(n)]
        listing = os.path.join(tmp, "list-%d" % n)
        with open(listing, "w") as f:
            f.write("\n".join(files) + "\n")
        for j in (1, 2):
            outdir = tempfile.mkdtemp(dir=tmp)
            if batch:
                # Distinct names so the batch driver writes every document.
                links = []
                for i, src in enumerate(files):
                    dst = os.path.join(outdir, "in-%05d.pdf" % i)
                    os.symlink(os.path.abspath(src), dst)
                    links.append(dst)
                argv = ours + ["-o", outdir, "-j", str(j)] + links
            else:
                conv = os.path.join(tmp, "convert.sh")
                with open(conv, "w") as f:
                    if ours[0] == "sh":
                        f.write(ours[2] + " > /dev/null\n")
                    else:
                        f.write('"%s" "$1" > /dev/null\n' % ours[0])
                argv = ["sh", "-c", 'xargs -d "\\n" -P %d -n 1 sh "%s" < "%s"'
                        % (j, conv, listing)]
            samples = []
            for _ in range(reps(n)):
                samples.append(measure(argv))
            shutil.rmtree(outdir, ignore_errors=True)
            cpu = statistics.median(x[0] for x in samples)
            rss = statistics.median(x[1] for x in samples)
            wall = statistics.median(x[2] for x in samples)
            st = max(x[3] for x in samples)
            results[(n, j)] = (wall, cpu, rss)
            speed = results[(n, 1)][0] / wall if j == 2 and wall else 1.0
            say("%8d %4d %10.2f %10.2f %12.1f %14s %9.2fx%s" % (
                n, j, wall, cpu, 1000 * wall / n, fmt_kib(rss), speed,
                "  (exit %d)" % st if st else ""))
    after = statistics.median(machine_parallelism() for _ in range(3))
    say("   machine after the runs: busy loops %.2f x side by side" % after)
    results["machine"] = min(results_machine, after)
    return results


def targets(results, ours, scale, counts):
    say("== Targets (issue 4)")
    if not ours:
        say("   pipeline not built: nothing to compare")
        return
    mine = results[ours]
    if mine[2]:
        say("   conversions failed (%d): the comparisons below are not valid" % mine[2])

    def line(what, ok, detail):
        say("   [%s] %s: %s" % ("met" if ok else "MISSED", what, detail))

    if "pdftotext" in results:
        p = results["pdftotext"]
        r = mine[0] / p[0] if p[0] else float("inf")
        line("CPU per page <= 1.5 x pdftotext (aim 1.2 x)", r <= 1.5, "%.2f x" % r)
        m = mine[1] / p[1] if p[1] else float("inf")
        line("peak memory per document <= 2 x pdftotext", m <= 2.0, "%.2f x" % m)
    if "pdfminer.six" in results:
        r = results["pdfminer.six"][0] / mine[0] if mine[0] else 0
        line(">= 20 x faster than pdfminer.six", r >= 20, "%.1f x" % r)
    if "pdfminer.six, one process" in results:
        r = results["pdfminer.six, one process"][0] / mine[0] if mine[0] else 0
        say("        (pdfminer.six with its Python start-up paid once for all documents: %.1f x)" % r)
    if scale:
        lo, hi = counts[1] if len(counts) > 1 else counts[0], counts[-1]
        per_lo = scale[(lo, 1)][1] / lo
        per_hi = scale[(hi, 1)][1] / hi
        r = per_hi / per_lo if per_lo else 0
        line("time linear in the number of documents", 0.8 <= r <= 1.2,
             "CPU per document at %d docs / at %d docs = %.2f" % (hi, lo, r))
        s = scale[(hi, 1)][0] / scale[(hi, 2)][0] if scale[(hi, 2)][0] else 0
        best = max(scale[(n, 1)][0] / scale[(n, 2)][0] for n in counts if scale[(n, 2)][0])
        line("near 2 x throughput with -j2 (>= 1.8 x)", s >= 1.8,
             "%.2f x at %d docs (best %.2f x) on %d CPUs; this machine gives %.2f x to"
             " two busy loops" % (s, hi, best, os.cpu_count() or 1, scale["machine"]))


def main(argv):
    runs, max_docs, out = 5, 1000, "out/bench.txt"
    i = 1
    while i < len(argv):
        if argv[i] == "--runs":
            runs = int(argv[i + 1])
        elif argv[i] == "--max-docs":
            max_docs = int(argv[i + 1])
        elif argv[i] == "--out":
            out = argv[i + 1]
        else:
            sys.stderr.write("usage: bench.py [--runs N] [--max-docs N] [--out FILE]\n")
            return 2
        i += 2
    pdfs = inputs()
    if not pdfs:
        sys.stderr.write("bench.py: no PDFs found in %s or fixtures/\n" % CORPUS)
        return 3
    pages = sum(pages_of(f) for f in pdfs)
    say("kst2xml bench, %s, %d CPUs, %s" % (time.strftime("%Y-%m-%d %H:%M"),
                                           os.cpu_count() or 1, os.uname().machine))
    say("inputs: %s" % " ".join(os.path.basename(f) for f in pdfs))
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        say("WARNING: load average %.1f on %d CPUs: other work competes; CPU times hold,"
            " wall times and the -j2 speed-up do not" % (load, os.cpu_count() or 1))
    say()
    tmp = tempfile.mkdtemp(prefix="kst-bench.")
    try:
        results, ours = compare(pdfs, pages, runs)
        say()
        stage_costs(pdfs, runs, tmp)
        say()
        startup_costs(runs, tmp)
        say()
        counts = [n for n in (1, 10, 100, 1000) if n <= max_docs]
        scale = scaling(pdfs, counts, tmp)
        say()
        targets(results, ours, scale, counts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(OUT) + "\n")
    print("written to %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
