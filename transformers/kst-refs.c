/* kst-refs - tag the references in a document's text.
 *
 * Reads a kst stream (docs/stream.md) after kst-notes, passes every record on
 * unchanged and in order, and adds, after each block's own records,
 *   tag BLOCK START END verwijzing type=...&ID=... refs:RULE
 * over every cited Kamerstuk, Handelingen, URL, EU document, law, gazette
 * or court decision in a body or footnote block (furniture is not body:
 * the running head's "34 843, nr. 45" is the document itself). What a reference looks like
 * is data: transformers/rules/refs.rules (docs/rules.md); this program only
 * decides where the rules run and which match wins:
 *   - in body blocks over the whole text, in voetnoot blocks only inside the
 *     note text that kst-notes tagged (so a note's printed number never
 *     becomes part of a dossier number), and never across a nootref marker
 *     or a raised (sup) run;
 *   - when matches overlap, the longest wins, then the earliest, then the
 *     rule first in the file: a general shape and a specific one can both be
 *     written, and output does not depend on anything but the input.
 * The whole stream is read before anything is written, so a malformed stream
 * gives no output, and tags that arrive after later blocks still count. */
#include "kst.h"
#include "rules.h"
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Every input record, re-serialised, for pass-through. */
struct store {
	FILE *fp;
	char *mem;
	size_t memlen;
};

struct block {
	long id;
	int voetnoot;
	int furniture;		/* not in the body: not tagged */
	int duplicate;		/* an earlier block has this id: left alone */
	char *text;
	size_t len;
	size_t groupend;	/* where, in the store, its records end */
};

/* A nootref or sup tag (cut out of the text rules see: a raised run that
 * kst-notes could not link is still no part of a reference, "nr. 2021" with a
 * raised 1 is nr. 202) or a noot tag (the text they see in a voetnoot block)
 * from upstream. */
struct span {
	long blockid;
	size_t start, end;
	int keep;
};

struct cand {
	size_t start, end;
	size_t rule;
	char *attrs;
};

struct doc {
	struct block *block;
	size_t nblock, capblock;
	struct span *span;	/* sorted by block id once the stream is read */
	size_t nspan, capspan;
	struct buf warns;
	unsigned char *limited;	/* per rule: a limit warning was written */
};

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: kst-refs [-r RULES]... [FILE|-]\n"
	    "Tags references (Kamerstukken, Handelingen, URLs, EU documents,\n"
	    "laws, Staatsblad, ECLI) in a kst stream after kst-notes. -r adds a\n"
	    "rule file, read before the built-in refs.rules (see kst-refs(1)).\n");
	exit(status);
}

/* Room for one more element in an array of *cap, doubling. */
static void *
grow(void *p, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? 2 * *cap : 16;
	return kst_xrealloc(p, *cap * size);
}

static size_t
field_offset(const struct reader *r, size_t i)
{
	long v = rec_long(r, i);

	if (v < 0)
		reader_fail(r, "field %zu: negative offset %ld", i + 1, v);
	return (size_t)v;
}

static void
add_block(struct doc *d, const struct reader *r, size_t where)
{
	struct block *b;

	rec_need(r, 6);
	if (d->nblock > 0)
		d->block[d->nblock - 1].groupend = where;
	d->block = grow(d->block, d->nblock, &d->capblock, sizeof(*d->block));
	b = &d->block[d->nblock++];
	memset(b, 0, sizeof(*b));
	b->id = rec_long(r, 1);
	b->voetnoot = strcmp(r->rec.field[2], "voetnoot") == 0;
	b->furniture = strcmp(r->rec.field[2], "furniture") == 0;
	b->text = kst_xstrdup(r->rec.field[5]);
	b->len = r->rec.len[5];
}

static void
add_span(struct doc *d, const struct reader *r)
{
	struct span *s;
	const char *kind;

	rec_need(r, 5);
	kind = r->rec.field[4];
	if (strcmp(kind, "nootref") != 0 && strcmp(kind, "sup") != 0 &&
	    strcmp(kind, "noot") != 0)
		return;
	d->span = grow(d->span, d->nspan, &d->capspan, sizeof(*d->span));
	s = &d->span[d->nspan++];
	s->blockid = rec_long(r, 1);
	s->start = field_offset(r, 2);
	s->end = field_offset(r, 3);
	s->keep = strcmp(kind, "noot") == 0;
}

static void
read_stream(struct reader *r, struct doc *d, struct store *st)
{
	while (reader_next(r)) {
		if (rec_is(&r->rec, "block"))
			add_block(d, r, (size_t)ftell(st->fp));
		else if (rec_is(&r->rec, "tag"))
			add_span(d, r);
		rec_write(st->fp, &r->rec);
	}
	if (d->nblock > 0)
		d->block[d->nblock - 1].groupend = (size_t)ftell(st->fp);
}

static int
by_blockid(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->blockid < y->blockid ? -1 : x->blockid > y->blockid;
}

struct idx {
	long id;
	size_t i;
};

static int
by_id_then_index(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* A block id that repeats (a broken or hostile stream) would make tags
 * ambiguous: only its first block is tagged. Sorting, not comparing every
 * pair, keeps this fast on any input. */
static void
index_doc(struct doc *d)
{
	struct idx *ix;
	size_t i;

	if (d->nspan)
		qsort(d->span, d->nspan, sizeof(*d->span), by_blockid);
	if (d->nblock == 0)
		return;
	ix = kst_xmalloc(d->nblock * sizeof(*ix));
	for (i = 0; i < d->nblock; i++) {
		ix[i].id = d->block[i].id;
		ix[i].i = i;
	}
	qsort(ix, d->nblock, sizeof(*ix), by_id_then_index);
	for (i = 1; i < d->nblock; i++)
		if (ix[i].id == ix[i - 1].id)
			d->block[ix[i].i].duplicate = 1;
	free(ix);
}

/* The spans of block id: [*first, *last) of d->span. */
static void
spans_of(const struct doc *d, long id, size_t *first, size_t *last)
{
	size_t lo = 0, hi = d->nspan;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->span[mid].blockid < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < d->nspan && d->span[hi].blockid == id)
		hi++;
	*last = hi;
}

/* Which bytes of b the rules may see: 1 in mask. A voetnoot block with noot
 * tags: only those; any block: never a nootref marker. */
static void
make_mask(const struct doc *d, const struct block *b, unsigned char *mask)
{
	size_t i, j, first, last;
	int haskeep = 0;

	spans_of(d, b->id, &first, &last);
	for (i = first; i < last; i++)
		haskeep |= b->voetnoot && d->span[i].keep;
	memset(mask, !haskeep, b->len);
	for (i = first; i < last && haskeep; i++) {
		const struct span *s = &d->span[i];

		for (j = s->start; s->keep && j < s->end && j < b->len; j++)
			mask[j] = 1;
	}
	for (i = first; i < last; i++) {
		const struct span *s = &d->span[i];

		for (j = s->start; !s->keep && j < s->end && j < b->len; j++)
			mask[j] = 0;
	}
}

static int
is_id_key(const char *key)
{
	static const char *keys[] = {
		"parlId", "handelingen", "stb", "stcrt", "trb", NULL
	};
	size_t i;

	for (i = 0; keys[i]; i++)
		if (strcmp(keys[i], key) == 0)
			return 1;
	return 0;
}

/* Length of the white space at s (ASCII blanks, no-break, thin and narrow
 * no-break spaces), 0 when there is none. */
static size_t
space_len(const unsigned char *s, size_t n)
{
	if (n >= 1 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		return 1;
	if (n >= 2 && s[0] == 0xc2 && s[1] == 0xa0)
		return 2;
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0x89 || s[2] == 0x8a || s[2] == 0xaf))
		return 3;
	return 0;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* The one normalisation templates cannot do (lib/rules has no such filter):
 * a dash-joined identifier. White space between two digits goes ("35 570" ->
 * "35570"), other white space becomes a dash ("35570 VIII" -> "35570-VIII"),
 * runs of dashes become one and dashes at either end go, so that an
 * optional group that did not match leaves no trace ("h-tk-20202021-45-"). */
static void
normalise_id(struct buf *v)
{
	struct buf o = BUF_INIT;
	const unsigned char *s = (const unsigned char *)buf_str(v);
	size_t i = 0, n = v->len, sp;

	while (i < n) {
		if ((sp = space_len(s + i, n - i)) > 0) {
			int before = o.len ? o.s[o.len - 1] : 0;

			while (i < n && (sp = space_len(s + i, n - i)) > 0)
				i += sp;
			if (is_digit(before) && i < n && is_digit(s[i]))
				continue;
			if (o.len && o.s[o.len - 1] != '-')
				buf_addc(&o, '-');
			continue;
		}
		if (s[i] == '-' && (o.len == 0 || o.s[o.len - 1] == '-')) {
			i++;
			continue;
		}
		buf_addc(&o, (char)s[i++]);
	}
	while (o.len && o.s[o.len - 1] == '-')
		o.s[--o.len] = '\0';
	buf_free(v);
	*v = o;
}

/* A CELEX number ends in a four-digit number ("32012R0648"); templates
 * cannot pad, so the last run of digits gets its leading zeros here. */
static void
pad_celex(struct buf *v)
{
	struct buf o = BUF_INIT;
	size_t digits = 0;

	while (digits < v->len && is_digit(v->s[v->len - 1 - digits]))
		digits++;
	if (digits == 0 || digits >= 4)
		return;
	buf_add(&o, v->s, v->len - digits);
	buf_add(&o, "0000", 4 - digits);
	buf_add(&o, v->s + v->len - digits, digits);
	buf_free(v);
	*v = o;
}

/* The attributes of the current match of r; -1 when a template rejected it. */
static int
match_attrs(struct ruleset *rs, const struct rule *r, struct buf *attrs)
{
	struct buf one = BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < r->nattr && rc == 0; i++) {
		if (strcmp(r->attr[i].key, "need") == 0)
			continue;	/* the rule reader's, not an attribute */
		buf_clear(&one);
		if (rule_expand(rs, &r->attr[i], &one) < 0) {
			rc = -1;
			break;
		}
		if (is_id_key(r->attr[i].key))
			normalise_id(&one);
		if (strcmp(r->attr[i].key, "celex") == 0)
			pad_celex(&one);
		if (one.len)
			attr_add(attrs, r->attr[i].key, one.s);
	}
	buf_free(&one);
	return rc;
}

static void
warn_limit(struct doc *d, const struct ruleset *rs, size_t ri)
{
	const struct rule *r = &rs->rule[ri];

	if (d->limited[ri])
		return;
	d->limited[ri] = 1;
	buf_printf(&d->warns, "warn\trefs-rule-limit\trule %s (%s:%lu) gave up: "
	    "the pattern backtracks too much on this document\n",
	    r->name, r->file, r->line);
}

struct cands {
	struct cand *c;
	size_t n, cap;
};

static void
add_cand(struct cands *cs, size_t start, size_t end, size_t rule,
    struct buf *attrs)
{
	struct cand **c = &cs->c;
	size_t *n = &cs->n;

	*c = grow(*c, *n, &cs->cap, sizeof(**c));
	(*c)[*n].start = start;
	(*c)[*n].end = end;
	(*c)[*n].rule = rule;
	(*c)[*n].attrs = kst_xstrdup(attr_field(attrs));
	(*n)++;
}

/* Every match of every rule in the stretch text[from..to). A match lies
 * wholly in the stretch (only lookarounds see past it), so a rule none of
 * whose need words (docs/rules.md) occur there is not run: most rules
 * match nothing in most blocks, and each failing scan costs. */
static void
run_rules(struct doc *d, struct ruleset *rs, const char *text, size_t from,
    size_t to, struct cands *cs)
{
	struct buf attrs = BUF_INIT;
	struct need_text need = NEED_TEXT_INIT;
	size_t ri, off, start, end;
	int rc;

	rule_need_text(text + from, to - from, &need);
	for (ri = 0; ri < rs->n; ri++) {
		if (!rule_may_match(&rs->rule[ri], &need))
			continue;
		off = from;
		while ((rc = rule_next(rs, &rs->rule[ri], text, to, &off,
		    &start, &end)) == 1) {
			if (start < from || end <= start)
				continue;
			buf_clear(&attrs);
			if (match_attrs(rs, &rs->rule[ri], &attrs) == 0)
				add_cand(cs, start, end, ri, &attrs);
		}
		if (rc < 0)
			warn_limit(d, rs, ri);
	}
	buf_free(&attrs);
	need_text_free(&need);
}

/* Longest first, then earliest, then the rule first in the file. */
static int
by_preference(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	size_t lx = x->end - x->start, ly = y->end - y->start;

	if (lx != ly)
		return lx > ly ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int
by_position(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Keeps the candidates that no preferred one overlaps, in text order;
 * returns how many. taken has a byte per text byte, all 0: marking the
 * kept ones costs at most the candidates' total length, which is bounded
 * by the number of rules times the text (one rule's matches never overlap). */
static size_t
resolve(struct cand *c, size_t n, unsigned char *taken)
{
	size_t i, j, kept = 0;

	if (n == 0)
		return 0;	/* c may be NULL, which qsort must not see */
	qsort(c, n, sizeof(*c), by_preference);
	for (i = 0; i < n; i++) {
		int clash = 0;

		for (j = c[i].start; j < c[i].end && !clash; j++)
			clash = taken[j];
		if (clash) {
			free(c[i].attrs);
			continue;
		}
		memset(taken + c[i].start, 1, c[i].end - c[i].start);
		c[kept++] = c[i];
	}
	qsort(c, kept, sizeof(*c), by_position);
	return kept;
}

/* The tag records for block b, appended to out. */
static void
tag_block(struct doc *d, struct ruleset *rs, const struct block *b, FILE *out)
{
	struct buf text = BUF_INIT, who = BUF_INIT;
	unsigned char *mask;
	struct cands cs = { NULL, 0, 0 };
	struct cand *c;
	size_t i, from, kept;

	if (b->duplicate || b->furniture || b->len == 0)
		return;
	buf_add(&text, b->text, b->len);
	utf8_repair(&text);
	if (text.len != b->len) {	/* offsets would not be the stream's */
		buf_free(&text);
		return;
	}
	mask = kst_xmalloc(b->len);
	make_mask(d, b, mask);
	for (i = 0; i < b->len; i = from) {
		for (from = i; from < b->len && !mask[from]; from++)
			;
		for (i = from; i < b->len && mask[i]; i++)
			;
		if (i > from)
			run_rules(d, rs, text.s, from, i, &cs);
		from = i;
	}
	memset(mask, 0, b->len);	/* now: the bytes a kept tag covers */
	c = cs.c;
	kept = resolve(c, cs.n, mask);
	for (i = 0; i < kept; i++) {
		buf_clear(&who);
		buf_printf(&who, "refs:%s", rs->rule[c[i].rule].name);
		rec_begin(out, "tag");
		rec_long_field(out, b->id);
		rec_long_field(out, (long)c[i].start);
		rec_long_field(out, (long)c[i].end);
		rec_field(out, rs->rule[c[i].rule].kind);
		rec_field(out, c[i].attrs);
		rec_field(out, who.s);
		rec_end(out);
		free(c[i].attrs);
	}
	buf_free(&who);
	free(c);
	free(mask);
	buf_free(&text);
}

static void
free_doc(struct doc *d)
{
	size_t i;

	for (i = 0; i < d->nblock; i++)
		free(d->block[i].text);
	free(d->block);
	free(d->span);
	free(d->limited);
	buf_free(&d->warns);
}

int
main(int argc, char **argv)
{
	const char *name;
	char *outbuf = NULL;
	size_t outlen = 0, pos = 0, i;
	struct ruleset rs;
	struct reader r;
	struct store st;
	struct doc d;
	FILE *in, *out;

	kst_setprog(argv[0]);
	in = rules_stage_open(argc, argv, "kst-refs", "refs.rules", usage, &rs,
	    &name);
	memset(&st, 0, sizeof(st));
	memset(&d, 0, sizeof(d));
	st.fp = open_memstream(&st.mem, &st.memlen);
	out = open_memstream(&outbuf, &outlen);
	if (st.fp == NULL || out == NULL)
		kst_die(KST_ELIMIT, "out of memory");
	reader_init(&r, in, name);
	read_stream(&r, &d, &st);
	index_doc(&d);
	if (fclose(st.fp) != 0)
		kst_die(KST_ELIMIT, "out of memory");
	d.limited = kst_xmalloc(rs.n + 1);
	memset(d.limited, 0, rs.n + 1);

	stream_header(out);
	for (i = 0; i < d.nblock; i++) {
		fwrite(st.mem + pos, 1, d.block[i].groupend - pos, out);
		pos = d.block[i].groupend;
		tag_block(&d, &rs, &d.block[i], out);
	}
	fwrite(st.mem + pos, 1, st.memlen - pos, out);
	fputs(buf_str(&d.warns), out);
	if (fclose(out) != 0)
		kst_die(KST_ELIMIT, "out of memory");
	fwrite(outbuf, 1, outlen, stdout);
	kst_close_stdout();

	free(outbuf);
	free(st.mem);
	free_doc(&d);
	reader_free(&r);
	rules_free(&rs);
	if (in != stdin)
		fclose(in);
	return KST_OK;
}
