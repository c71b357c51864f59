#!/bin/sh
# make bench: speed and memory of kst2xml against pdftotext, mutool and
# pdfminer.six on the same real PDFs (tests/bench/bench.py does the work;
# docs/eval.md explains the tables). Installs the comparison tools when they
# are missing and we are root. Not part of make check: no timing assertions.
#   sh tests/bench.sh [--runs N] [--max-docs N]
set -u
cd "$(dirname "$0")/.." || exit 2
need=""
command -v pdftotext >/dev/null 2>&1 || need="$need poppler-utils"
command -v pdfinfo >/dev/null 2>&1 || need="$need poppler-utils"
command -v mutool >/dev/null 2>&1 || need="$need mupdf-tools"
command -v pdf2txt >/dev/null 2>&1 || command -v pdf2txt.py >/dev/null 2>&1 || need="$need python3-pdfminer"
command -v python3 >/dev/null 2>&1 || need="$need python3"
if [ -n "$need" ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "bench: installing$need" >&2
		apt-get update -qq >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null 2>&1 ||
			echo "bench: could not install$need; measuring what is there" >&2
	else
		echo "bench: missing$need (run as root to install); measuring what is there" >&2
	fi
fi
mkdir -p out
exec python3 tests/bench/bench.py --out out/bench.txt "$@"
