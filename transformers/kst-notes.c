/* kst-notes - link footnote markers in the body to the footnotes they name.
 *
 * Reads a kst stream (docs/stream.md) after kst-layout and kst-meta, passes
 * every record on unchanged and in order, and adds:
 *   tag BLOCK START END nootref noot=ID RULE   on each marker in a body block;
 *   tag BLOCK START END noot id=ID&nr=N RULE   on each footnote's text in a
 *                                               voetnoot block (vervolg=1 on
 *                                               a continuation);
 *   warn noot-unlinked / nootref-missing       for what could not be paired.
 * Markers come only from the "sup" tags layout puts on raised or smaller runs
 * (and from superscript digit characters): digits in plain text are never
 * markers, so "160.000", "2017-2018" or "Nr. 45" cannot be mistaken for one.
 * The whole stream is read before anything is written: linking needs notes
 * that come after their markers, and a malformed stream gives no output. */
#include "buf.h"
#include "kst.h"
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE ((size_t)-1)
#define MAXNR 999	/* footnote numbers have at most three digits */

/* Every input record, re-serialised, for pass-through. */
struct store {
	FILE *fp;
	char *mem;
	size_t memlen;
};

struct rec {
	size_t off, len;
	size_t block;		/* index into blocks when a block record */
	long tagblock;		/* block id when a tag record, else -1 */
	int isblock;
};

struct block {
	long id;
	char *kind;
	long page;
	char *text;
	size_t len;
	size_t firstsup, nsup;	/* its sup tags, a range of sups[] */
};

struct sup {
	long blockid;
	size_t block;
	size_t start, end;
	double rise;
};

struct marker {
	size_t block;
	size_t start, end;
	int nr;
	const char *rule;
	size_t note;
};

struct note {
	int nr;			/* 0: printed without a number */
	long page;
	size_t numblock;	/* block holding the printed number */
	size_t numend;		/* where the number ends in it */
	int lone;		/* the number is a block of its own */
	size_t nparts;		/* tagged stretches of text */
	size_t pblock, pstart, pend;	/* its first part, for warnings */
	int linked;
};

struct key {		/* a (number, page) pair, for look-ups */
	int nr;
	long page;
};

struct newtag {
	size_t block;
	size_t start, end;
	int kind;		/* 0 nootref, 1 noot: nootref first on ties */
	char *attrs;
	const char *rule;
};

struct vec {
	void *v;
	size_t n, cap, size;
};

static struct vec recs = { NULL, 0, 0, sizeof(struct rec) };
static struct vec blocks = { NULL, 0, 0, sizeof(struct block) };
static struct vec sups = { NULL, 0, 0, sizeof(struct sup) };
static struct vec markers = { NULL, 0, 0, sizeof(struct marker) };
static struct vec notes = { NULL, 0, 0, sizeof(struct note) };
static struct vec tags = { NULL, 0, 0, sizeof(struct newtag) };
static struct buf warns = BUF_INIT;
static int already_tagged;

#define AT(vec, type, i) (((type *)(vec).v)[i])
#define BLOCK(i) AT(blocks, struct block, i)
#define SUP(i) AT(sups, struct sup, i)
#define MARKER(i) AT(markers, struct marker, i)
#define NOTE(i) AT(notes, struct note, i)
#define TAG(i) AT(tags, struct newtag, i)

static void *
vec_push(struct vec *v)
{
	void *slot;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->v = kst_xrealloc(v->v, v->cap * v->size);
	}
	slot = (char *)v->v + v->n++ * v->size;
	memset(slot, 0, v->size);
	return slot;
}

static void
warn_begin(const char *code)
{
	buf_adds(&warns, "warn\t");
	buf_adds(&warns, code);
	buf_addc(&warns, '\t');
}

static void quote(struct buf *w, const char *t, size_t from, size_t to);

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: %s [FILE|-]\n"
	    "Link footnote markers to footnotes in a kst stream; "
	    "see kst-notes(1).\n", kst_progname);
}

/* ---------------------------------------------------------------- input */

static int
is_body(const struct block *b)
{
	return strcmp(b->kind, "voetnoot") != 0 &&
	    strcmp(b->kind, "furniture") != 0;
}

static int
is_voetnoot(const struct block *b)
{
	return strcmp(b->kind, "voetnoot") == 0;
}

static void
read_block(struct reader *r, struct rec *rc)
{
	struct block *b;

	rec_need(r, 6);
	rc->isblock = 1;
	rc->block = blocks.n;
	b = vec_push(&blocks);
	b->id = rec_long(r, 1);
	b->kind = kst_xstrdup(r->rec.field[2]);
	b->page = rec_long(r, 3);
	b->len = r->rec.len[5];
	b->text = kst_xmalloc(b->len + 1);
	memcpy(b->text, r->rec.field[5], b->len + 1);
}

static void
read_tag(struct reader *r, struct rec *rc)
{
	struct buf val = BUF_INIT;
	struct sup *s;
	long start, end;
	const char *kind;

	rec_need(r, 7);
	rc->tagblock = rec_long(r, 1);
	kind = r->rec.field[4];
	if (strcmp(kind, "nootref") == 0 || strcmp(kind, "noot") == 0)
		already_tagged = 1;
	if (strcmp(kind, "sup") != 0)
		return;
	start = rec_long(r, 2);
	end = rec_long(r, 3);
	if (start < 0 || end < start)
		reader_fail(r, "tag range %ld..%ld is not a range", start, end);
	s = vec_push(&sups);
	s->blockid = rc->tagblock;
	s->block = NONE;
	s->start = (size_t)start;
	s->end = (size_t)end;
	if (attr_get(r->rec.field[5], "rise", &val))
		s->rise = strtod(buf_str(&val), NULL);
	buf_free(&val);
}

static void
read_stream(FILE *fp, const char *name, struct store *st)
{
	struct reader r;
	struct rec *rc;
	long off;

	reader_init(&r, fp, name);
	while (reader_next(&r)) {
		off = ftell(st->fp);
		rc = vec_push(&recs);
		rc->tagblock = -1;
		if (rec_is(&r.rec, "block"))
			read_block(&r, rc);
		else if (rec_is(&r.rec, "tag"))
			read_tag(&r, rc);
		rec_write(st->fp, &r.rec);
		rc->off = (size_t)off;
		rc->len = (size_t)(ftell(st->fp) - off);
	}
	reader_free(&r);
}

/* ------------------------------------------------------- block look-up */

static size_t *byid;	/* block indices sorted by id */

static int
cmp_byid(const void *a, const void *b)
{
	long x = BLOCK(*(const size_t *)a).id, y = BLOCK(*(const size_t *)b).id;

	if (x != y)
		return x < y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static size_t
find_block(long id)
{
	size_t lo = 0, hi = blocks.n;

	while (lo < hi) {	/* first index with id >= wanted */
		size_t mid = lo + (hi - lo) / 2;

		if (BLOCK(byid[mid]).id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < blocks.n && BLOCK(byid[lo]).id == id)
		return byid[lo];
	return NONE;
}

static int
cmp_sup(const void *a, const void *b)
{
	const struct sup *x = a, *y = b;

	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* Attaches each sup tag to its block; drops those naming no block or
 * reaching past its text (hostile or stale input must not crash us). */
static void
index_blocks(void)
{
	size_t i, kept = 0;

	byid = kst_xmalloc((blocks.n ? blocks.n : 1) * sizeof(*byid));
	for (i = 0; i < blocks.n; i++)
		byid[i] = i;
	qsort(byid, blocks.n, sizeof(*byid), cmp_byid);
	for (i = 0; i < sups.n; i++) {
		struct sup s = SUP(i);

		s.block = find_block(s.blockid);
		if (s.block == NONE || s.end > BLOCK(s.block).len)
			continue;
		SUP(kept++) = s;
	}
	sups.n = kept;
	if (sups.n > 1)
		qsort(sups.v, sups.n, sizeof(struct sup), cmp_sup);
	for (i = 0; i < blocks.n; i++)
		BLOCK(i).firstsup = NONE;
	for (i = 0; i < sups.n; i++) {
		struct block *b = &BLOCK(SUP(i).block);

		if (b->firstsup == NONE)
			b->firstsup = i;
		b->nsup++;
	}
}

/* Is text[start..end) inside one sup run of block bi? */
static int
sup_covers(size_t bi, size_t start, size_t end)
{
	const struct block *b = &BLOCK(bi);
	size_t i;

	for (i = 0; i < b->nsup; i++) {
		const struct sup *s = &SUP(b->firstsup + i);

		if (s->start <= start && end <= s->end)
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------- characters */

/* Value of the digit at t[i] (ASCII or a superscript digit), its byte
 * length in *n; -1 when t[i] is no digit. */
static int
digit_at(const char *t, size_t len, size_t i, size_t *n)
{
	const unsigned char *u = (const unsigned char *)t + i;
	size_t left = len - i;

	*n = 1;
	if (u[0] >= '0' && u[0] <= '9')
		return u[0] - '0';
	if (left >= 2 && u[0] == 0xC2) {
		*n = 2;
		switch (u[1]) {
		case 0xB9: return 1;
		case 0xB2: return 2;
		case 0xB3: return 3;
		}
		return -1;
	}
	if (left >= 3 && u[0] == 0xE2 && u[1] == 0x81 &&
	    (u[2] == 0xB0 || (u[2] >= 0xB4 && u[2] <= 0xB9))) {
		*n = 3;
		return u[2] == 0xB0 ? 0 : u[2] - 0xB0;
	}
	return -1;
}

static int
is_ascii_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_space_at(const char *t, size_t len, size_t i)
{
	unsigned char c = (unsigned char)t[i];

	if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
		return 1;
	return i + 1 < len && c == 0xC2 && (unsigned char)t[i + 1] == 0xA0;
}

static size_t
skip_space(const char *t, size_t len, size_t i)
{
	while (i < len && is_space_at(t, len, i))
		i += (unsigned char)t[i] == 0xC2 ? 2 : 1;
	return i;
}

/* Reads an ASCII number of one to three digits at t[i]; its end in *end.
 * Returns 0 when there is none (or it is longer: a year, an amount). */
static int
number_at(const char *t, size_t len, size_t i, size_t *end)
{
	size_t j = i;
	int v = 0;

	while (j < len && is_ascii_digit((unsigned char)t[j]) && j - i < 4)
		v = v * 10 + (t[j++] - '0');
	if (j == i || j - i > 3 ||
	    (j < len && is_ascii_digit((unsigned char)t[j])))
		return 0;
	*end = j;
	return v;
}

/* "31 015", "28 345", "1.000": a number in groups of three, as in dossier
 * numbers and amounts, so not a footnote number starting a line. */
static int
is_digit_group(const char *t, size_t len, size_t end)
{
	size_t j = end;

	if (j < len && (t[j] == ' ' || t[j] == '.'))
		j++;
	else if (j + 1 < len && (unsigned char)t[j] == 0xC2 &&
	    (unsigned char)t[j + 1] == 0xA0)
		j += 2;
	else
		return 0;
	if (j + 3 > len)
		return 0;
	if (!is_ascii_digit(t[j]) || !is_ascii_digit(t[j + 1]) ||
	    !is_ascii_digit(t[j + 2]))
		return 0;
	return j + 3 == len || !is_ascii_digit((unsigned char)t[j + 3]);
}

/* ------------------------------------------------------------ markers */

/* "m2", "km2", "cm3": a raised 2 or 3 after a unit is a power. */
static int
after_unit(const char *t, size_t start, int nr)
{
	static const char *units[] = { "m", "km", "cm", "mm", "dm", "hm" };
	size_t i, w = start;

	if (nr != 2 && nr != 3)
		return 0;
	while (w > 0 && ((t[w - 1] >= 'a' && t[w - 1] <= 'z') ||
	    (t[w - 1] >= 'A' && t[w - 1] <= 'Z')))
		w--;
	if (w > 0 && !is_ascii_digit((unsigned char)t[w - 1]) &&
	    t[w - 1] != ' ')
		return 0;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i]) == start - w &&
		    strncmp(t + w, units[i], start - w) == 0)
			return 1;
	return 0;
}

/* A body block that opens with a raised number and then text ("1 Bij
 * hoogtechnologisch ...") is a footnote body layout did not recognise, not
 * a marker: linking it would be wrong, so say so instead. */
static int
starts_note_body(size_t bi, size_t start, size_t end, int nr)
{
	const struct block *b = &BLOCK(bi);
	unsigned char c;

	if (skip_space(b->text, b->len, 0) != start || end >= b->len)
		return 0;
	c = (unsigned char)b->text[end];
	if (!is_space_at(b->text, b->len, end) && !(c >= 'A' && c <= 'Z') &&
	    !(c >= 'a' && c <= 'z'))
		return 0;
	warn_begin("noot-in-body");
	buf_printf(&warns, "block %ld (page %ld, %s) opens with a raised %d: "
	    "a footnote body taken for body text? ", b->id, b->page, b->kind,
	    nr);
	quote(&warns, b->text, start, b->len);
	buf_addc(&warns, '\n');
	return 1;
}

static void
add_marker(size_t bi, size_t start, size_t end, int nr, const char *rule)
{
	struct marker *m;
	const char *t = BLOCK(bi).text;

	if (nr < 1 || nr > MAXNR || after_unit(t, start, nr))
		return;
	if (starts_note_body(bi, start, end, nr))
		return;
	if (strcmp(rule, "notes:superscript") == 0 && start > 0 &&
	    (is_space_at(t, BLOCK(bi).len, start - 1) || (start > 1 &&
	    (unsigned char)t[start - 2] == 0xC2 &&
	    (unsigned char)t[start - 1] == 0xA0)))
		rule = "notes:superscript-after-space";
	m = vec_push(&markers);
	m->block = bi;
	m->start = start;
	m->end = end;
	m->nr = nr;
	m->rule = rule;
	m->note = NONE;
}

/* Every run of digits in text[start..end) is one marker: a sup run holding
 * "1,2" marks two notes, one holding "1 " marks one. */
static void
scan_digits(size_t bi, size_t start, size_t end, int need_super,
    const char *rule)
{
	const char *t = BLOCK(bi).text;
	size_t i = start, n, first;
	int d, v, ndig, super;

	while (i < end) {
		if (digit_at(t, end, i, &n) < 0) {
			i++;
			continue;
		}
		first = i;
		v = ndig = super = 0;
		while (i < end && (d = digit_at(t, end, i, &n)) >= 0) {
			v = v * 10 + d;
			super |= n > 1;
			ndig++;
			i += n;
		}
		if (ndig <= 3 && (super || !need_super))
			add_marker(bi, first, i, v, rule);
	}
}

/* Unicode superscript digits outside any sup run: the PDF printed them
 * raised by its own glyphs, so they are markers too (a sup run over them
 * is scanned once, as a sup run). */
static void
scan_unicode_supers(size_t bi)
{
	const struct block *b = &BLOCK(bi);
	size_t i = 0, n, j, k;

	while (i < b->len) {
		/* every superscript digit starts with one of these two bytes:
		 * the rest are passed over without decoding them (decoding
		 * every byte was a fifth of the stage's time) */
		if (((unsigned char)b->text[i] != 0xC2 &&
		    (unsigned char)b->text[i] != 0xE2) ||
		    digit_at(b->text, b->len, i, &n) < 0 || n == 1) {
			i++;
			continue;
		}
		j = i;
		while (j < b->len && digit_at(b->text, b->len, j, &k) >= 0 &&
		    k > 1)
			j += k;
		if (!sup_covers(bi, i, j))
			scan_digits(bi, i, j, 1, "notes:unicode-superscript");
		i = j;
	}
}

static void
find_markers(void)
{
	size_t bi, i;

	for (bi = 0; bi < blocks.n; bi++) {
		const struct block *b = &BLOCK(bi);

		if (!is_body(b))
			continue;
		for (i = 0; i < b->nsup; i++) {
			const struct sup *s = &SUP(b->firstsup + i);

			if (s->rise < 0)	/* subscript: CO2, H2O */
				continue;
			if (i > 0 && s->start < SUP(b->firstsup + i - 1).end)
				continue;	/* overlapping duplicate */
			scan_digits(bi, s->start, s->end, 0,
			    "notes:superscript");
		}
		scan_unicode_supers(bi);
	}
}

static struct key *mkeys;		/* markers' (nr, page), sorted */
static unsigned char marker_nr[MAXNR + 1];

static int
cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->nr != y->nr)
		return x->nr - y->nr;
	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	return 0;
}

static void
index_markers(void)
{
	size_t i;

	mkeys = kst_xmalloc((markers.n ? markers.n : 1) * sizeof(*mkeys));
	for (i = 0; i < markers.n; i++) {
		mkeys[i].nr = MARKER(i).nr;
		mkeys[i].page = BLOCK(MARKER(i).block).page;
		marker_nr[MARKER(i).nr] = 1;
	}
	qsort(mkeys, markers.n, sizeof(*mkeys), cmp_key);
}

/* Is there a marker numbered nr on page (any page when page < 0)? */
static int
marker_exists(int nr, long page)
{
	struct key k;

	if (nr < 1 || nr > MAXNR)
		return 0;
	if (page < 0)
		return marker_nr[nr];
	k.nr = nr;
	k.page = page;
	return bsearch(&k, mkeys, markers.n, sizeof(*mkeys), cmp_key) != NULL;
}

/* The (number, page) pairs of the notes found so far: an open-addressing
 * hash set, so that hostile input with many notes stays linear. */
static struct key *nset;
static size_t nsetcap, nsetlen;

static size_t
key_hash(int nr, long page)
{
	unsigned long long h = (unsigned long long)nr * 0x9E3779B97F4A7C15ull;

	h ^= (unsigned long long)page + 0x632BE59BD9B4E019ull +
	    (h << 6) + (h >> 2);
	return (size_t)(h ^ (h >> 29));
}

static void nset_add(int nr, long page);

static void
nset_grow(void)
{
	struct key *old = nset;
	size_t i, oldcap = nsetcap;

	nsetcap = nsetcap ? nsetcap * 2 : 256;
	nset = kst_xmalloc(nsetcap * sizeof(*nset));
	for (i = 0; i < nsetcap; i++)
		nset[i].nr = -1;
	nsetlen = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].nr >= 0)
			nset_add(old[i].nr, old[i].page);
	free(old);
}

static void
nset_add(int nr, long page)
{
	size_t i;

	if (2 * (nsetlen + 1) > nsetcap)
		nset_grow();
	for (i = key_hash(nr, page) & (nsetcap - 1); nset[i].nr >= 0;
	    i = (i + 1) & (nsetcap - 1))
		if (nset[i].nr == nr && nset[i].page == page)
			return;
	nset[i].nr = nr;
	nset[i].page = page;
	nsetlen++;
}

static int
note_on_page(int nr, long page)
{
	size_t i;

	if (nsetcap == 0)
		return 0;
	for (i = key_hash(nr, page) & (nsetcap - 1); nset[i].nr >= 0;
	    i = (i + 1) & (nsetcap - 1))
		if (nset[i].nr == nr && nset[i].page == page)
			return 1;
	return 0;
}

/* -------------------------------------------------------------- notes */

static void
add_tag(size_t bi, size_t start, size_t end, int kind, char *attrs,
    const char *rule)
{
	struct newtag *t = vec_push(&tags);

	t->block = bi;
	t->start = start;
	t->end = end;
	t->kind = kind;
	t->attrs = attrs;
	t->rule = rule;
}

static char *
note_attrs(size_t ni, int vervolg)
{
	struct buf a = BUF_INIT;
	char v[32];

	snprintf(v, sizeof v, "n%zu", ni + 1);
	attr_add(&a, "id", v);
	if (NOTE(ni).nr > 0) {
		snprintf(v, sizeof v, "%d", NOTE(ni).nr);
		attr_add(&a, "nr", v);
	}
	if (vervolg)
		attr_add(&a, "vervolg", "1");
	return buf_detach(&a);
}

/* Tags text[start..end) of block bi, trimmed of white space, as (a part
 * of) note ni. */
static void
add_part(size_t ni, size_t bi, size_t start, size_t end, const char *rule)
{
	const char *t = BLOCK(bi).text;
	int vervolg = NOTE(ni).nparts > 0;

	start = skip_space(t, end, start);
	while (end > start && (t[end - 1] == ' ' || t[end - 1] == '\n' ||
	    t[end - 1] == '\t' || t[end - 1] == '\r'))
		end--;
	while (end > start + 1 && (unsigned char)t[end - 2] == 0xC2 &&
	    (unsigned char)t[end - 1] == 0xA0)
		end -= 2;
	if (end == start)
		return;
	if (vervolg)
		rule = "notes:continuation";
	else {
		NOTE(ni).pblock = bi;
		NOTE(ni).pstart = start;
		NOTE(ni).pend = end;
	}
	add_tag(bi, start, end, 1, note_attrs(ni, vervolg), rule);
	NOTE(ni).nparts++;
}

static size_t
new_note(int nr, size_t bi, size_t numend)
{
	struct note *n = vec_push(&notes);

	n->nr = nr;
	n->page = BLOCK(bi).page;
	n->numblock = bi;
	n->numend = numend;
	n->pblock = bi;
	n->pstart = n->pend = BLOCK(bi).len;
	if (nr > 0)
		nset_add(nr, n->page);
	return notes.n - 1;
}

/* Could number nr, printed at t[at..end) of block bi, start note after
 * note cur (NONE: no note yet)? Evidence, strongest first: the number is
 * a sup run; a marker with that number sits on this page; it is the next
 * number in sequence (or 1 on a new page, for numbering per page). */
static int
plausible(size_t bi, size_t at, size_t end, int nr, size_t cur)
{
	const struct block *b = &BLOCK(bi);

	if (sup_covers(bi, at, end))
		return 1;
	if (is_digit_group(b->text, b->len, end) || note_on_page(nr, b->page))
		return 0;
	if (cur == NONE)
		return 1;
	if (nr == NOTE(cur).nr + 1)
		return 1;
	if (nr == 1 && b->page != NOTE(cur).page)
		return 1;
	return nr > NOTE(cur).nr && marker_exists(nr, b->page);
}

static int
prev_word_is_reference(const char *t, size_t at)
{
	static const char *words[] = { "artikel", "art.", "lid", "nr.",
	    "Nr.", "nummer", "hoofdstuk", "paragraaf", "bijlage", "onderdeel",
	    "punt" };
	size_t i, e, w;

	if (at < 2)
		return 0;
	e = at - 1;	/* the space before the number */
	w = e;
	while (w > 0 && t[w - 1] != ' ' && t[w - 1] != '\n')
		w--;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == e - w &&
		    strncmp(t + w, words[i], e - w) == 0)
			return 1;
	return 0;
}

/* In a block whose lines layout joined with spaces, a number after a space
 * starts a note only when it is the next in sequence, has a marker, is not
 * "artikel 2" or "nr. 3", and is not followed by more digits. */
static int
joined_split_ok(size_t bi, size_t p, size_t numend, int nr, size_t cur)
{
	const struct block *b = &BLOCK(bi);
	size_t q = skip_space(b->text, b->len, numend);

	if (nr != NOTE(cur).nr + 1 || !marker_exists(nr, -1))
		return 0;
	if (prev_word_is_reference(b->text, p))
		return 0;
	return q == b->len || !is_ascii_digit((unsigned char)b->text[q]);
}

/* Where in t[from..len) does the next note start? Returns its offset, the
 * number in *nr, the end of the number in *numend; len when none. A note
 * starts at the beginning of a line; when layout joined the lines with
 * spaces, after a space, but only on stronger evidence. */
static size_t
next_split(size_t bi, size_t from, size_t cur, int *nr, size_t *numend)
{
	const struct block *b = &BLOCK(bi);
	const char *t = b->text;
	int lines = memchr(t, '\n', b->len) != NULL;
	size_t i, p;

	for (i = from; i < b->len; i++) {
		if (lines && t[i] != '\n')
			continue;
		if (!lines && t[i] != ' ')
			continue;
		p = lines ? skip_space(t, b->len, i + 1) : i + 1;
		if ((*nr = number_at(t, b->len, p, numend)) == 0)
			continue;
		if (*numend == b->len || !is_space_at(t, b->len, *numend))
			continue;
		if (!plausible(bi, p, *numend, *nr, cur))
			continue;
		if (!lines && !sup_covers(bi, p, *numend) &&
		    !joined_split_ok(bi, p, *numend, *nr, cur))
			continue;
		return p;
	}
	return b->len;
}

/* Tags the notes of block bi starting with note ni, whose text begins at
 * offset text: the rest of the block up to the next note that starts in
 * it. */
static size_t
tag_notes_from(size_t bi, size_t ni, size_t text, const char *rule)
{
	size_t split, numend = 0;
	int nr = 0;

	for (;;) {
		split = next_split(bi, text, ni, &nr, &numend);
		add_part(ni, bi, text, split, rule);
		if (split == BLOCK(bi).len)
			return ni;
		ni = new_note(nr, bi, numend);
		text = numend;
		rule = "notes:split-by-sequence";
	}
}

/* Number printed at the start of voetnoot block bi: its value, or 0. */
static int
leading_number(size_t bi, size_t *at, size_t *end, size_t cur)
{
	const struct block *b = &BLOCK(bi);
	int nr;

	*at = skip_space(b->text, b->len, 0);
	nr = number_at(b->text, b->len, *at, end);
	if (nr == 0 || !plausible(bi, *at, *end, nr, cur))
		return 0;
	if (*end == b->len || is_space_at(b->text, b->len, *end))
		return nr;
	if (sup_covers(bi, *at, *end))
		return nr;	/* "1Bij ...": a raised number glued to text */
	return 0;
}

/* A number printed with no text after it (layout lost the text, or the
 * next block began a new note) is still a note: an empty tag right after
 * the number keeps it (a lone number already has one). */
static void
keep_empty_notes(void)
{
	size_t ni;

	for (ni = 0; ni < notes.n; ni++) {
		const struct note *n = &NOTE(ni);

		if (n->nparts > 0)
			continue;
		if (!n->lone)
			add_tag(n->numblock, n->numend, n->numend, 1,
			    note_attrs(ni, 0), "notes:number-only");
		warn_begin("noot-empty");
		buf_printf(&warns, "footnote %d (page %ld) has a number but no "
		    "text\n", n->nr, n->page);
	}
}

/* A number printed as a block of its own ("1", its text in the next
 * block): an empty tag after it ties the block to its note. */
static size_t
lone_number(size_t bi, int nr, size_t end)
{
	size_t ni = new_note(nr, bi, end);

	NOTE(ni).lone = 1;
	add_tag(bi, end, end, 1, note_attrs(ni, 0), "notes:number-own-block");
	return ni;
}

static void
find_notes(void)
{
	size_t bi, at, end, text, cur = NONE, pending = NONE;
	int nr;

	for (bi = 0; bi < blocks.n; bi++) {
		const struct block *b = &BLOCK(bi);

		if (!is_voetnoot(b))
			continue;
		if (skip_space(b->text, b->len, 0) == b->len)
			continue;
		nr = leading_number(bi, &at, &end, cur);
		if (nr && skip_space(b->text, b->len, end) == b->len) {
			pending = cur = lone_number(bi, nr, end);
			continue;
		}
		if (pending != NONE && !(nr && (sup_covers(bi, at, end) ||
		    marker_exists(nr, b->page)))) {
			cur = tag_notes_from(bi, pending, 0,
			    "notes:number-own-block");
			pending = NONE;
			continue;
		}
		pending = NONE;	/* a new note follows a lone number */
		if (nr) {
			text = skip_space(b->text, b->len, end);
			cur = new_note(nr, bi, end);
			cur = tag_notes_from(bi, cur, text,
			    memchr(b->text + end, '\n', text - end) ?
			    "notes:number-own-line" : "notes:body-number-line");
			continue;
		}
		if (cur == NONE)
			cur = new_note(0, bi, 0);	/* kept, unnumbered */
		cur = tag_notes_from(bi, cur, 0, NOTE(cur).nparts ?
		    "notes:continuation" : "notes:unnumbered");
	}
	keep_empty_notes();
}

/* ------------------------------------------------------------ linking */

static size_t *nsorted;		/* note indices by (nr, page, index) */
/* Look-ups left: bounds the time hostile input can take. */
static unsigned long budget = 50000000;

static int
cmp_note(const void *a, const void *b)
{
	const struct note *x = &NOTE(*(const size_t *)a);
	const struct note *y = &NOTE(*(const size_t *)b);

	if (x->nr != y->nr)
		return x->nr - y->nr;
	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* First position in nsorted whose note is numbered nr or more. */
static size_t
first_numbered(int nr)
{
	size_t lo = 0, hi = notes.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (NOTE(nsorted[mid]).nr < nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The note numbered nr closest to page: the same page first, then later
 * pages (a note pushed on) before earlier ones; only unlinked ones when
 * free is set. */
static size_t
best_note(int nr, long page, int free)
{
	size_t i, best = NONE;
	unsigned long d, bestd = 0;

	for (i = first_numbered(nr); i < notes.n && budget > 0; i++, budget--) {
		const struct note *n = &NOTE(nsorted[i]);

		if (n->nr != nr)
			break;
		if (free && n->linked)
			continue;
		d = n->page >= page ? 2 * (unsigned long)(n->page - page) :
		    2 * (unsigned long)(page - n->page) + 1;
		if (best == NONE || d < bestd) {
			best = nsorted[i];
			bestd = d;
		}
	}
	return best;
}

/* Pass 1 pairs each marker with a free note of its number on its own page
 * (numbering per page needs this); pass 2 with the nearest free one; pass
 * 3 lets a marker repeat a note already referred to. */
static void
link_markers(void)
{
	size_t i, pass, ni;

	nsorted = kst_xmalloc((notes.n ? notes.n : 1) * sizeof(*nsorted));
	for (i = 0; i < notes.n; i++)
		nsorted[i] = i;
	qsort(nsorted, notes.n, sizeof(*nsorted), cmp_note);
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < markers.n; i++) {
			struct marker *m = &MARKER(i);
			long page = BLOCK(m->block).page;

			if (m->note != NONE || m->nr < 1)
				continue;
			ni = best_note(m->nr, page, pass < 2);
			if (ni == NONE || (pass == 0 && NOTE(ni).page != page))
				continue;
			m->note = ni;
			NOTE(ni).linked = 1;
		}
	}
}

/* A short quotation of text[from..to) for a warning, cut on a character
 * boundary, without line breaks. */
static void
quote(struct buf *w, const char *t, size_t from, size_t to)
{
	size_t i;

	while (from < to && ((unsigned char)t[from] & 0xC0) == 0x80)
		from++;
	if (to - from > 40) {
		to = from + 40;
		while (to > from && ((unsigned char)t[to] & 0xC0) == 0x80)
			to--;
	}
	buf_addc(w, '"');
	for (i = from; i < to; i++)
		buf_addc(w, t[i] == '\n' || t[i] == '\t' ? ' ' : t[i]);
	buf_adds(w, "\"");
}

static void
warn_unlinked(size_t ni)
{
	const struct note *n = &NOTE(ni);

	warn_begin("noot-unlinked");
	if (n->nr)
		buf_printf(&warns, "footnote %d", n->nr);
	else
		buf_adds(&warns, "unnumbered footnote");
	buf_printf(&warns, " (page %ld) has no marker in the body: ", n->page);
	quote(&warns, BLOCK(n->pblock).text, n->pstart, n->pend);
	buf_addc(&warns, '\n');
}

static void
warn_missing(const struct marker *m)
{
	const struct block *b = &BLOCK(m->block);
	size_t from = m->start > 40 ? m->start - 40 : 0;

	warn_begin("nootref-missing");
	buf_printf(&warns, "marker %d (page %ld) after ", m->nr, b->page);
	quote(&warns, b->text, from, m->start);
	buf_adds(&warns, " has no footnote\n");
}

/* Does the URL t[..e) end where the print wrapped it: a hyphen, slash or
 * underscore, then white space and more of the URL in lower case? */
static int
url_wrapped_at(const char *t, size_t e, size_t end)
{
	char last = t[e - 1], next;

	if (e + 1 >= end)
		return 0;
	next = t[e + 1];
	return (last == '-' || last == '/' || last == '_') &&
	    ((next >= 'a' && next <= 'z') || next == '_' ||
	    is_ascii_digit((unsigned char)next));
}

static void
warn_url_break(const struct newtag *g, const char *t, size_t url, size_t e)
{
	struct buf nr = BUF_INIT;

	attr_get(g->attrs, "nr", &nr);
	warn_begin("noot-url-broken");
	buf_printf(&warns, "footnote %s: a URL is still broken where the "
	    "print wrapped it, at ", buf_str(&nr));
	quote(&warns, t, e > url + 20 ? e - 20 : url,
	    e + 20 < g->end ? e + 20 : g->end);
	buf_addc(&warns, '\n');
	buf_free(&nr);
}

static int
url_starts(const char *t, size_t i, size_t start)
{
	if (i > start && t[i - 1] != ' ' && t[i - 1] != '\n')
		return 0;
	return strncmp(t + i, "http", 4) == 0 || strncmp(t + i, "www.", 4) == 0;
}

/* A URL in a note that still holds a space or line break where the print
 * broke it over lines ("...-en- huiselijk-geweld"): joining it is layout's
 * job (taggers never rewrite text), so say so rather than mend it. */
static void
check_url_break(const struct newtag *g)
{
	const char *t = BLOCK(g->block).text;
	size_t i, e;

	for (i = g->start; i < g->end; i++) {
		if (!url_starts(t, i, g->start))
			continue;
		for (e = i; e < g->end && !is_space_at(t, g->end, e); e++)
			;
		if (url_wrapped_at(t, e, g->end))
			warn_url_break(g, t, i, e);
		i = e;
	}
}

static void
tag_markers(void)
{
	size_t i;

	for (i = 0; i < markers.n; i++) {
		const struct marker *m = &MARKER(i);
		struct buf a = BUF_INIT;
		char id[32];

		if (m->note == NONE) {
			warn_missing(m);
			continue;
		}
		snprintf(id, sizeof id, "n%zu", m->note + 1);
		attr_add(&a, "noot", id);
		add_tag(m->block, m->start, m->end, 0, buf_detach(&a), m->rule);
	}
	for (i = 0; i < notes.n; i++)
		if (!NOTE(i).linked)
			warn_unlinked(i);
	for (i = 0; i < tags.n; i++)
		if (TAG(i).kind == 1)
			check_url_break(&TAG(i));
}

/* ------------------------------------------------------------- output */

static int
cmp_tag(const void *a, const void *b)
{
	const struct newtag *x = a, *y = b;

	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	return x->end < y->end ? -1 : x->end > y->end;
}

static size_t
write_tags(size_t bi, size_t t)
{
	for (; t < tags.n && TAG(t).block == bi; t++) {
		const struct newtag *g = &TAG(t);

		rec_begin(stdout, "tag");
		rec_long_field(stdout, BLOCK(bi).id);
		rec_long_field(stdout, (long)g->start);
		rec_long_field(stdout, (long)g->end);
		rec_field(stdout, g->kind ? "noot" : "nootref");
		rec_field(stdout, g->attrs);
		rec_field(stdout, g->rule);
		rec_end(stdout);
	}
	return t;
}

/* Each block's new tags follow the block and the tags it already has. */
static void
write_stream(const struct store *st)
{
	size_t i, t = 0, cur = NONE;

	if (tags.n > 1)
		qsort(tags.v, tags.n, sizeof(struct newtag), cmp_tag);
	stream_header(stdout);
	for (i = 0; i < recs.n; i++) {
		const struct rec *rc = &AT(recs, struct rec, i);

		if (cur != NONE && !(rc->tagblock >= 0 &&
		    rc->tagblock == BLOCK(cur).id)) {
			while (t < tags.n && TAG(t).block < cur)
				t++;
			t = write_tags(cur, t);
			cur = NONE;
		}
		fwrite(st->mem + rc->off, 1, rc->len, stdout);
		if (rc->isblock)
			cur = rc->block;
	}
	if (cur != NONE) {
		while (t < tags.n && TAG(t).block < cur)
			t++;
		write_tags(cur, t);
	}
	fputs(buf_str(&warns), stdout);
}

static void
free_all(struct store *st)
{
	size_t i;

	for (i = 0; i < blocks.n; i++) {
		free(BLOCK(i).kind);
		free(BLOCK(i).text);
	}
	for (i = 0; i < tags.n; i++)
		free(TAG(i).attrs);
	free(recs.v);
	free(blocks.v);
	free(sups.v);
	free(markers.v);
	free(notes.v);
	free(tags.v);
	free(byid);
	free(mkeys);
	free(nset);
	free(nsorted);
	free(st->mem);
	buf_free(&warns);
}

int
main(int argc, char *argv[])
{
	struct store st = { NULL, NULL, 0 };
	const char *name = "-";
	FILE *in = stdin;

	kst_setprog(argv[0]);
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return KST_OK;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("kst-notes %s\n", KST_VERSION);
		return KST_OK;
	}
	if (argc > 2 ||
	    (argc == 2 && argv[1][0] == '-' && argv[1][1] != '\0')) {
		usage(stderr);
		return KST_EUSAGE;
	}
	if (argc == 2 && strcmp(argv[1], "-") != 0) {
		name = argv[1];
		if ((in = fopen(name, "r")) == NULL)
			kst_die(KST_ENOFILE, "%s: %s", name, strerror(errno));
	}
	if ((st.fp = open_memstream(&st.mem, &st.memlen)) == NULL)
		kst_die(KST_EINTERNAL, "open_memstream: %s", strerror(errno));
	read_stream(in, name, &st);
	if (in != stdin)
		fclose(in);
	if (fclose(st.fp) != 0)
		kst_die(KST_ELIMIT, "out of memory buffering the stream");
	if (!already_tagged) {
		index_blocks();
		find_markers();
		index_markers();
		find_notes();
		link_markers();
		tag_markers();
	}
	write_stream(&st);
	free_all(&st);
	kst_close_stdout();
	return KST_OK;
}
