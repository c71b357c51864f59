# kst2xml - Kamerstuk PDF to validated XML.
#
#   make            build every stage
#   make demo       install missing packages, build, convert fixtures and corpus to out/, validate
#   make check      install missing packages, build, run the test suite (plain and ASan+UBSan)
#   make eval       quality table against the corpus ground truth (out/eval.tsv)
#   make bench      speed and memory against pdftotext, mutool and pdfminer
#   make fuzz       fuzz the parsers of our own formats (needs clang)
#
# O=dir builds into another tree (the sanitizer build uses O=out/san).

O        ?= .
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
            -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CPPFLAGS += -Ilib
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

POPPLER_CFLAGS := $(shell pkg-config --cflags poppler-glib 2>/dev/null)
POPPLER_LIBS   := $(shell pkg-config --libs poppler-glib 2>/dev/null)
PCRE2_CFLAGS   := $(shell pkg-config --cflags libpcre2-8 2>/dev/null)
PCRE2_LIBS     := $(shell pkg-config --libs libpcre2-8 2>/dev/null)
XML_CFLAGS     := $(shell pkg-config --cflags libxml-2.0 2>/dev/null)
XML_LIBS       := $(shell pkg-config --libs libxml-2.0 2>/dev/null)
XML_STATIC_LIBS := $(shell pkg-config --libs --static libxml-2.0 2>/dev/null) -lstdc++
# "yes" when every archive a static kst-validate needs is installed
# (liblzma-dev and zlib1g-dev are not dependencies of libxml2-dev).
XML_STATIC_OK  := $(shell for l in $(patsubst -l%,lib%.a,$(filter -l%,$(XML_STATIC_LIBS))); do \
	[ -f "$$($(CC) -print-file-name=$$l)" ] || exit 0; done; echo yes)
CAIRO_CFLAGS   := $(shell pkg-config --cflags cairo 2>/dev/null)
CAIRO_LIBS     := $(shell pkg-config --libs cairo 2>/dev/null)

# Each program links only what it uses: start-up time matters for 1-page documents.
CFLAGS_kst-extract   = $(POPPLER_CFLAGS)
LIBS_kst-extract     = $(POPPLER_LIBS) -lm
CFLAGS_kst-validate  = $(XML_CFLAGS)
# kst-validate runs once a document: linked dynamically, loading libxml2's
# ICU and libstdc++ costs 1.3 ms before main; static it starts in 0.3 ms
# (not in san/dyn builds, where STATIC is empty, nor when an archive is
# missing). ICU stays in: it decodes documents in encodings libxml2 has no
# built-in converter for. The linker's warnings about dlopen and
# getaddrinfo are harmless: ICU plug-ins and nanohttp are never used.
LIBS_kst-validate    = $(if $(STATIC),$(if $(XML_STATIC_OK),-static $(XML_STATIC_LIBS),$(XML_LIBS)),$(XML_LIBS))
CFLAGS_kst-refs      = $(PCRE2_CFLAGS)
LIBS_kst-refs        = $(PCRE2_LIBS)
CFLAGS_kst-commit    = $(PCRE2_CFLAGS)
LIBS_kst-commit      = $(PCRE2_LIBS)
LIBS_kst-layout      = -lm
CFLAGS_kst-meta      = $(PCRE2_CFLAGS)
LIBS_kst-meta        = $(PCRE2_LIBS)
# lib/rules.o: the rule-file reader (docs/rules.md); its last-resort rule directory
CFLAGS_rules         = $(PCRE2_CFLAGS) -DKST_RULES_DIR='"$(CURDIR)/transformers/rules"'
CFLAGS_test-rules    = $(PCRE2_CFLAGS)
LIBS_test-rules      = $(PCRE2_LIBS)
CFLAGS_kst-notes     = $(PCRE2_CFLAGS)
LIBS_kst-notes       = $(PCRE2_LIBS)
CFLAGS_kst-typeset   = $(CAIRO_CFLAGS)
LIBS_kst-typeset     = $(CAIRO_LIBS) -lm

LIB_SRC  = $(wildcard lib/*.c)
LIB_HDR  = $(wildcard lib/*.h)
LIB_OBJ  = $(LIB_SRC:%.c=$(O)/obj/%.o)
# An archive, so each program links only the lib objects it uses (and so
# only the libraries those need).
LIB_A    = $(O)/obj/libkst.a
PROGS    = $(patsubst %.c,$(O)/%,$(wildcard extractors/*.c transformers/*.c bin/*.c))
UNITS    = $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(wildcard tests/unit/*.c))

all: $(PROGS) $(UNITS)

$(O)/obj/%.o: %.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(CFLAGS_$(notdir $*)) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# The small programs run once or more per document, most documents have 1-5
# pages, and dynamic loading is a good part of their cost: linked statically
# each starts 0.1-0.4 ms sooner. Not in sanitizer builds (ASan needs dynamic).
STATIC       = -static
STATIC_PROGS = kst-layout kst-meta kst-notes kst-refs kst-commit kst-xml kst2xml

LINK = @mkdir -p $(dir $@); \
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) \
	    $(if $(filter $(notdir $@),$(STATIC_PROGS)),$(STATIC)) \
	    -o $@ $^ $(LIBS_$(notdir $@)) && echo "  LD  $@"

$(O)/extractors/%: $(O)/obj/extractors/%.o $(LIB_A)
	$(LINK)
$(O)/transformers/%: $(O)/obj/transformers/%.o $(LIB_A)
	$(LINK)
$(O)/bin/%: $(O)/obj/bin/%.o $(LIB_A)
	$(LINK)
$(O)/tests/unit/%: $(O)/obj/tests/unit/%.o $(LIB_A)
	$(LINK)

fixtures/kst-typeset: fixtures/kst-typeset.c $(LIB_A)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) $(CFLAGS_kst-typeset) -o $@ $^ $(LIBS_kst-typeset)

# Conversion as make rules, so `make -j4 out/a.xml out/b.xml` or `make -j4 convert`
# runs in parallel; kst2xml -o writes each result atomically.
CORPUS ?= ../shared/corpus
vpath %.pdf fixtures $(CORPUS)/kst $(CORPUS)/letters
CONVERT = $(patsubst %.pdf,out/%.xml,$(notdir $(wildcard fixtures/*.pdf $(CORPUS)/kst/*.pdf $(CORPUS)/letters/*.pdf)))

out/%.xml: %.pdf $(PROGS)
	@$(O)/bin/kst2xml --output $@ $<

convert: $(CONVERT)

deps:
	@sh .ci/deps

san:
	$(MAKE) O=out/san EXTRA_CFLAGS="$(SAN_FLAGS)" STATIC= all

# Everything linked dynamically, for valgrind (tests/t-valgrind.sh).
dyn:
	$(MAKE) O=out/dyn STATIC= all

demo: deps
	$(MAKE) all
	@sh tests/demo.sh

check: deps
	$(MAKE) all
	$(MAKE) san
	$(MAKE) dyn
	@sh tests/run.sh . out/san

eval: deps
	$(MAKE) all
	@python3 tests/eval.py

bench: deps
	$(MAKE) all
	@sh tests/bench.sh

fuzz:
	@sh tests/fuzz/run.sh

clean:
	rm -rf out/* obj $(PROGS) $(UNITS) fixtures/kst-typeset

.PHONY: all deps san dyn demo check eval bench fuzz clean convert
.SECONDARY:
