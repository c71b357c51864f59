/* kst-layout - text lines to logical blocks in reading order.
 *
 * Reads the extractor's line/run records, writes block, tag and warn
 * records (docs/stream.md); source, page and unknown records pass through.
 * docs/man/kst-layout.1 documents every heuristic and its thresholds. */
#include "kst.h"
#include "stream.h"

#include <ctype.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DICT_PATH "/usr/share/dict/dutch"

enum { ST_B = 1, ST_I = 2 };
enum { COL_BODY, COL_LEFT, COL_RIGHT };
enum { R_BODY, R_FURN, R_NOTE };
enum { K_AL, K_KOP, K_LI, K_AANHEF, K_SLOT, K_ONDER, K_NOTE, K_FURN };
static const char *kind_name[] = {
	"al", "kop", "li", "aanhef", "slotformulering", "ondertekening",
	"voetnoot", "furniture"
};

struct run {
	size_t start, end;
	double size, rise;
	int style;
	int font_differs;
};

struct line {
	int page;
	double x0, y0, x1, y1, base, size;
	int style;
	char *font;
	struct buf text;
	struct run *runs;
	size_t nrun, caprun;
	int dead;		/* merged into another line, or blank */
	size_t lead;		/* white space cut from the front of text */
	size_t rawlen;		/* text length as the record gave it */
	int col, role;
	const char *why;
};

struct page {
	int n;
	size_t lo, hi;		/* its lines: L[lo..hi) once sorted */
	double w, h;
	double left, right;	/* body column edges */
	int justified;		/* most body lines end flush right */
};

struct block {
	int kind, page, level;
	const char *why;
	char marker[32];
	size_t *lines;		/* indices into L */
	size_t nline, capline;
	size_t marker_len;	/* bytes of the first line that are the marker */
	double gap_after;	/* baseline gap to the next body block, -1 if none */
	struct buf text;
};

static struct line *L;
static size_t nL, capL;
static struct page *P;
static size_t nP, capP;
static struct block *B;
static size_t nB, capB;
static double body_size = 9, pitch = 11;
static double col_left, col_right;

/* ------------------------------------------------------------ utilities */

static struct buf warns;	/* warn records, written after the blocks */

static void add_warn(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
add_warn(const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	FILE *mem;
	char *p = NULL;
	size_t n = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if ((mem = open_memstream(&p, &n)) == NULL)
		return;
	rec_begin(mem, "warn");
	rec_field(mem, code);
	rec_field(mem, msg);
	rec_end(mem);
	fclose(mem);
	buf_add(&warns, p, n);
	free(p);
}

static int
style_of(const char *s)
{
	int st = 0;

	if (strchr(s, 'b'))
		st |= ST_B;
	if (strchr(s, 'i'))
		st |= ST_I;
	return st;
}

/* Pages come in increasing order (add_page checks), so a binary search. */
static struct page *
page_of(int n)
{
	size_t lo = 0, hi = nP;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (P[mid].n == n)
			return &P[mid];
		if (P[mid].n < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static size_t
utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static int
starts_with(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

/* Whole line in one emphasised style: no run switches style back. */
static int
whole_styled(const struct line *l)
{
	size_t i;

	if (l->style == 0)
		return 0;
	for (i = 0; i < l->nrun; i++)
		if ((l->runs[i].style & l->style) != l->style &&
		    l->runs[i].rise < 0.5)
			return 0;
	return 1;
}

static int
is_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* ------------------------------------------------------------- reading */

static void
add_page(struct reader *r)
{
	struct page *p;

	rec_need(r, 4);
	if (nP == capP) {
		capP = capP ? capP * 2 : 16;
		P = kst_xrealloc(P, capP * sizeof *P);
	}
	p = &P[nP++];
	memset(p, 0, sizeof *p);
	p->n = (int)rec_long(r, 1);
	if (nP > 1 && p->n <= P[nP - 2].n)
		reader_fail(r, "page %d after page %d: pages must increase",
		    p->n, P[nP - 2].n);
	p->w = rec_double(r, 2);
	p->h = rec_double(r, 3);
}

static void
add_line(struct reader *r)
{
	struct line *l;

	rec_need(r, 11);
	if (nL == capL) {
		capL = capL ? capL * 2 : 256;
		L = kst_xrealloc(L, capL * sizeof *L);
	}
	l = &L[nL];
	memset(l, 0, sizeof *l);
	l->page = (int)rec_long(r, 1);
	l->x0 = rec_double(r, 2);
	l->y0 = rec_double(r, 3);
	l->x1 = rec_double(r, 4);
	l->y1 = rec_double(r, 5);
	l->base = rec_double(r, 6);
	l->size = rec_double(r, 7);
	if (!(l->size > 0 && l->size < 1000))
		reader_fail(r, "line size out of range: %s", r->rec.field[7]);
	l->style = style_of(r->rec.field[8]);
	l->font = kst_xstrdup(r->rec.field[9]);
	buf_add(&l->text, r->rec.field[10], r->rec.len[10]);
	l->rawlen = l->text.len;
	if (page_of(l->page) == NULL)
		reader_fail(r, "line on page %d before its page record", l->page);
	/* white space at the ends is not text; runs shift with it */
	l->lead = strspn(l->text.s, " \t");
	if (l->lead) {
		memmove(l->text.s, l->text.s + l->lead, l->text.len - l->lead + 1);
		l->text.len -= l->lead;
	}
	while (l->text.len && (l->text.s[l->text.len - 1] == ' ' ||
	    l->text.s[l->text.len - 1] == '\t'))
		l->text.s[--l->text.len] = '\0';
	/* a blank line carries nothing; it stays to own its runs */
	l->dead = strspn(l->text.s ? l->text.s : "", " \t\r\n") == l->text.len;
	nL++;
}

static void
add_run(struct reader *r)
{
	struct line *l;
	struct run *u;
	long s, e;

	rec_need(r, 7);
	if (nL == 0)
		reader_fail(r, "run record before any line");
	l = &L[nL - 1];
	s = rec_long(r, 1);
	e = rec_long(r, 2);
	if (s < 0 || e < s || (size_t)e > l->rawlen)
		reader_fail(r, "run %ld..%ld outside its line", s, e);
	s = s > (long)l->lead ? s - (long)l->lead : 0;
	e = e > (long)l->lead ? e - (long)l->lead : 0;
	if ((size_t)e > l->text.len)
		e = (long)l->text.len;
	if ((size_t)s > (size_t)e)
		s = e;
	if (l->nrun == l->caprun) {
		l->caprun = l->caprun ? l->caprun * 2 : 4;
		l->runs = kst_xrealloc(l->runs, l->caprun * sizeof *l->runs);
	}
	u = &l->runs[l->nrun++];
	u->start = (size_t)s;
	u->end = (size_t)e;
	u->size = rec_double(r, 3);
	u->rise = rec_double(r, 4);
	u->style = style_of(r->rec.field[5]);
	u->font_differs = strcmp(r->rec.field[6], l->font) != 0;
}

/* ----------------------------------------------------- rows and columns */

static int
by_position(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	if (fabs(x->base - y->base) > 0.5 * fmin(x->size, y->size))
		return x->base < y->base ? -1 : 1;
	if (x->x0 != y->x0)
		return x->x0 < y->x0 ? -1 : 1;
	return 0;
}

static double
overlap(const struct line *a, const struct line *b)
{
	double lo = fmax(a->y0, b->y0), hi = fmin(a->y1, b->y1);
	double h = fmin(a->y1 - a->y0, b->y1 - b->y0);

	return h > 0 ? (hi - lo) / h : 0;
}

/* Appends line b to line a (b lies to the right on the same row). */
static void
merge_into(struct line *a, struct line *b)
{
	size_t off = a->text.len + 1, i;

	buf_addc(&a->text, ' ');
	buf_add(&a->text, b->text.s, b->text.len);
	for (i = 0; i < b->nrun; i++) {
		struct run u = b->runs[i];

		u.start += off;
		u.end += off;
		if (a->nrun == a->caprun) {
			a->caprun = a->caprun ? a->caprun * 2 : 4;
			a->runs = kst_xrealloc(a->runs, a->caprun * sizeof *a->runs);
		}
		a->runs[a->nrun++] = u;
	}
	a->x1 = b->x1;
	a->y0 = fmin(a->y0, b->y0);
	a->y1 = fmax(a->y1, b->y1);
	b->dead = 1;
}

/* A small digits-only line just left of a text line (a footnote number
 * set as its own line) becomes the text line's first run. */
static void
prepend_marker(struct line *m, struct line *t)
{
	struct buf nb = BUF_INIT;
	size_t off = m->text.len + 1, i;
	struct run u;

	buf_add(&nb, m->text.s, m->text.len);
	buf_addc(&nb, ' ');
	buf_add(&nb, t->text.s, t->text.len);
	buf_free(&t->text);
	t->text = nb;
	for (i = 0; i < t->nrun; i++) {
		t->runs[i].start += off;
		t->runs[i].end += off;
	}
	u.start = 0;
	u.end = m->text.len;
	u.size = m->size;
	u.rise = t->base - m->base;
	u.style = m->style;
	u.font_differs = 0;
	if (t->nrun == t->caprun) {
		t->caprun = t->caprun ? t->caprun * 2 : 4;
		t->runs = kst_xrealloc(t->runs, t->caprun * sizeof *t->runs);
	}
	memmove(t->runs + 1, t->runs, t->nrun * sizeof *t->runs);
	t->runs[0] = u;
	t->nrun++;
	t->x0 = m->x0;
	m->dead = 1;
}

static void
page_ranges(void)
{
	size_t i = 0, pi;

	for (pi = 0; pi < nP; pi++) {
		while (i < nL && L[i].page < P[pi].n)
			i++;
		P[pi].lo = i;
		while (i < nL && L[i].page == P[pi].n)
			i++;
		P[pi].hi = i;
	}
}

static void
merge_rows(void)
{
	size_t i, j;

	if (nL == 0)
		return;
	qsort(L, nL, sizeof *L, by_position);
	page_ranges();
	for (i = 0; i < nL; i++) {
		struct line *a = &L[i];

		if (a->dead)
			continue;
		/* a row has a handful of pieces: look 64 lines ahead at most */
		for (j = i + 1; j < nL && j < i + 64 && L[j].page == a->page; j++) {
			struct line *b = &L[j];
			double gap = b->x0 - a->x1;
			double big = fmax(a->size, b->size);

			if (b->base - a->base > 3 * big)
				break;	/* sorted by baseline: no more on this row */
			if (b->dead || b->y0 > a->y1 + big)
				continue;
			if (overlap(a, b) < 0.4 || gap < -2 || gap > 4 * big)
				continue;
			if (a->size < 0.8 * b->size && is_digits(a->text.s, a->text.len)
			    && gap < 2 * b->size) {
				prepend_marker(a, b);
				break;
			}
			if (fabs(a->size - b->size) > 0.2 * big)
				continue;
			merge_into(a, b);
		}
	}
}

static int
by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Body size: the size that most characters are set in. */
static void
measure(void)
{
	double best = 0, *sz, *gaps;
	size_t i, n = 0, ng = 0, k;

	/* pairs (size, characters), sorted by size, summed per size */
	sz = kst_xmalloc((2 * nL + 2) * sizeof *sz);
	gaps = kst_xmalloc((nL + 1) * sizeof *gaps);
	for (i = 0; i < nL; i++)
		if (!L[i].dead) {
			sz[2 * n] = floor(L[i].size * 2 + 0.5) / 2;
			sz[2 * n + 1] = (double)L[i].text.len;
			n++;
		}
	qsort(sz, n, 2 * sizeof *sz, by_double);
	for (i = 0; i < n; ) {
		double chars = 0;

		for (k = i; k < n && sz[2 * k] == sz[2 * i]; k++)
			chars += sz[2 * k + 1];
		if (chars > best) {
			best = chars;
			body_size = sz[2 * i];
		}
		i = k;
	}
	/* Pitch: the most common baseline step between body-size lines. */
	for (i = 1; i < nL; i++) {
		struct line *a = &L[i - 1], *b = &L[i];
		double d = b->base - a->base;

		if (a->dead || b->dead || a->page != b->page)
			continue;
		if (fabs(a->size - body_size) > 0.6 || fabs(b->size - body_size) > 0.6)
			continue;
		if (d > 0.9 * body_size && d < 2.2 * body_size)
			gaps[ng++] = floor(d * 4 + 0.5) / 4;
	}
	qsort(gaps, ng, sizeof *gaps, by_double);
	pitch = ng ? gaps[ng / 3] : body_size * 1.2;
	free(sz);
	free(gaps);
}

/* The right edge of a page's text: the furthest body line that is no
 * more than 12 pt beyond where four lines in five end. A page is justified
 * when most of its body lines end within 1.5 pt of it; then a line that
 * stops short ends a paragraph. */
static void
page_edges(void)
{
	double *xe = kst_xmalloc((nL + 1) * sizeof *xe);
	size_t pi, i, n, flush;

	for (pi = 0; pi < nP; pi++) {
		struct page *p = &P[pi];
		double p80;

		n = flush = 0;
		for (i = p->lo; i < p->hi; i++) {
			const struct line *l = &L[i];

			if (l->dead || l->page != p->n || l->col != COL_BODY ||
			    l->role != R_BODY || fabs(l->size - body_size) > 0.6)
				continue;
			xe[n++] = l->x1;
		}
		p->left = col_left;
		p->right = col_right;
		p->justified = 0;
		if (n == 0)
			continue;
		qsort(xe, n, sizeof *xe, by_double);
		p80 = xe[(n * 4) / 5 < n ? (n * 4) / 5 : n - 1];
		for (i = n; i-- > 0; )
			if (xe[i] <= p80 + 12) {
				p->right = xe[i];
				break;
			}
		for (i = 0; i < n; i++)
			flush += xe[i] > p->right - 1.5;
		p->justified = n >= 6 && flush * 2 >= n;
	}
	free(xe);
}

/* Body column: where most body-size lines start, and how far they reach. */
static void
columns(void)
{
	double *xs, *xe;
	size_t i, n = 0;

	xs = kst_xmalloc((nL + 1) * sizeof *xs);
	xe = kst_xmalloc((nL + 1) * sizeof *xe);
	for (i = 0; i < nL; i++) {
		if (L[i].dead || fabs(L[i].size - body_size) > 0.6)
			continue;
		xs[n] = floor(L[i].x0 + 0.5);
		xe[n++] = L[i].x1;
	}
	qsort(xs, n, sizeof *xs, by_double);
	qsort(xe, n, sizeof *xe, by_double);
	col_left = n ? xs[n / 10] : 0;
	col_right = n ? xe[n - 1 - n / 20] : 1e9;
	for (i = 0; i < nL; i++) {
		struct line *l = &L[i];

		l->col = COL_BODY;
		if (l->x1 < col_left - 2)
			l->col = COL_LEFT;
		else if (l->x0 > col_right + 4 && l->size < body_size * 0.95)
			l->col = COL_RIGHT;
	}
	free(xs);
	free(xe);
}

/* ----------------------------------------------------------- furniture */

/* Text with digits removed and white space collapsed: page furniture
 * repeats with only its numbers changed. */
static void
furniture_key(const struct line *l, struct buf *k)
{
	const char *s;
	int sp = 0;

	buf_clear(k);
	for (s = l->text.s; *s; s++) {
		if (isdigit((unsigned char)*s))
			continue;
		if (isspace((unsigned char)*s)) {
			sp = 1;
			continue;
		}
		if (sp && k->len)
			buf_addc(k, ' ');
		sp = 0;
		buf_addc(k, (char)tolower((unsigned char)*s));
	}
}

static int
zone(const struct line *l)
{
	const struct page *p = page_of(l->page);

	if (l->y1 < 0.12 * p->h)
		return 1;
	if (l->y0 > 0.85 * p->h)
		return 2;
	return 0;
}

static int
page_number_text(const char *s)
{
	char w[16];
	int a, b, n = 0;

	if (is_digits(s, strlen(s)) && strlen(s) <= 4)
		return 1;
	if (sscanf(s, "- %d -%n", &a, &n) == 1 && s[n] == '\0')
		return 1;
	if (sscanf(s, "%15s %d van %d%n", w, &a, &b, &n) == 3 && s[n] == '\0')
		return 1;
	if (sscanf(s, "%d / %d%n", &a, &b, &n) == 2 && s[n] == '\0')
		return 1;
	return 0;
}

/* Strings that only confirm what position suggests: a footer line in the
 * bottom zone that names the publication. */
static int
footer_text(const char *s)
{
	if (starts_with(s, "kst-") || starts_with(s, "ah-tk-") ||
	    starts_with(s, "ah-ek-") || starts_with(s, "blg-") ||
	    starts_with(s, "ISSN ") || strstr(s, "Gravenhage 2") ||
	    strstr(s, "Kamer, vergaderjaar") || strstr(s, "Kamer, Vergaderjaar"))
		return 1;
	return 0;
}

static void
set_furn(struct line *l, const char *why)
{
	if (l->role == R_FURN)
		return;
	l->role = R_FURN;
	l->why = why;
}

struct zkey {
	int zone, page;
	char *key;
	size_t line;
};

static int
by_zkey(const void *a, const void *b)
{
	const struct zkey *x = a, *y = b;
	int c;

	if (x->zone != y->zone)
		return x->zone - y->zone;
	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Does member g of the group zk[i..j) of equal texts recur on another
 * page within 24 pt of its height? Large groups only count pages. */
static int
recurs(const struct zkey *zk, size_t i, size_t j, size_t g)
{
	size_t h;

	if (j - i > 64)		/* sorted by page within the group */
		return zk[i].page != zk[j - 1].page;
	for (h = i; h < j; h++)
		if (zk[h].page != zk[g].page &&
		    fabs(L[zk[h].line].y0 - L[zk[g].line].y0) <= 24)
			return 1;
	return 0;
}

/* Page numbers and publication footers by their look; then lines of the
 * top or bottom zone whose text, numbers aside, recurs in the same zone on
 * another page: sorted by (zone, text) so that equal ones sit together. */
static void
repeated_furniture(void)
{
	struct zkey *zk = kst_xmalloc((nL + 1) * sizeof *zk);
	struct buf k = BUF_INIT;
	size_t i, j, n = 0, g;

	for (i = 0; i < nL; i++) {
		struct line *a = &L[i];
		int za = a->dead ? 0 : zone(a);

		if (za == 0)
			continue;
		if (page_number_text(a->text.s)) {
			set_furn(a, "page-number");
			continue;
		}
		if (za == 2 && (a->col == COL_LEFT || footer_text(a->text.s))) {
			set_furn(a, "running-footer");
			continue;
		}
		furniture_key(a, &k);
		if (k.len == 0)
			continue;
		if (k.len < 12) {	/* "Antwoord 3" is not "Antwoord 8" */
			buf_clear(&k);
			buf_adds(&k, a->text.s);
		}
		zk[n].zone = za;
		zk[n].page = a->page;
		zk[n].line = i;
		zk[n].key = buf_detach(&k);
		n++;
	}
	if (n)
		qsort(zk, n, sizeof *zk, by_zkey);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && zk[j].zone == zk[i].zone &&
		    strcmp(zk[j].key, zk[i].key) == 0; j++)
			;
		for (g = i; g < j; g++)
			if (recurs(zk, i, j, g))
				set_furn(&L[zk[g].line], zk[g].zone == 1 ?
				    "running-header" : "running-footer");
	}
	for (i = 0; i < n; i++)
		free(zk[i].key);
	free(zk);
	buf_free(&k);
}

/* Side columns: the ministry letter's sender column on the right, and
 * anything in the margin column of the first page's head. */
static void
side_columns(void)
{
	size_t i;

	for (i = 0; i < nL; i++) {
		if (L[i].dead || L[i].role != R_BODY)
			continue;
		if (L[i].col == COL_RIGHT)
			set_furn(&L[i], "sender-column");
	}
}

/* The head of page 1: the XPP title block (large or bold lines, or lines
 * beside a margin label), the letter head above the end of the sender
 * column. Everything above the lowest such line is head, plus the lines
 * that follow it at line pitch. */
/* Is there a margin-column line on the row of line i ("Nr. 143")? Lines
 * are sorted by baseline, so only neighbours need looking at. */
static int
beside_margin_label(const struct page *p, size_t i)
{
	size_t j;

	for (j = i; j-- > p->lo && L[i].base - L[j].base < 20; )
		if (!L[j].dead && L[j].col == COL_LEFT &&
		    fabs(L[j].base - L[i].base) < 2)
			return 1;
	for (j = i + 1; j < p->hi && L[j].base - L[i].base < 20; j++)
		if (!L[j].dead && L[j].col == COL_LEFT &&
		    fabs(L[j].base - L[i].base) < 2)
			return 1;
	return 0;
}

static void
page_head(void)
{
	const struct page *p = nP ? &P[0] : NULL;
	double yh = -1;
	const struct line *prev = NULL;
	int xpp = 0;
	size_t i, last = 0;

	if (p == NULL)
		return;
	for (i = p->lo; i < p->hi; i++) {
		struct line *l = &L[i];

		if (l->dead || l->page != p->n || l->y1 > 0.5 * p->h)
			continue;
		if (l->col == COL_RIGHT && l->y1 > yh) {
			yh = l->y1;
			continue;
		}
		if (l->col != COL_BODY || l->role != R_BODY)
			continue;
		if (l->size >= 1.15 * body_size) {
			if (l->y1 > yh)
				yh = l->y1;
			xpp = 1;
			continue;
		}
		if ((l->style & ST_B) && beside_margin_label(p, i)) {
			if (l->y1 > yh)
				yh = l->y1;
			xpp = 1;
		}
	}
	if (yh < 0)
		return;
	/* extend by the lines that follow at line pitch */
	for (i = p->lo; i < p->hi; i++) {
		struct line *l = &L[i];

		if (l->dead || l->page != p->n || l->role != R_BODY)
			continue;
		if (l->y0 < yh - 1) {
			last = i + 1;
			continue;
		}
		if (last && L[last - 1].page == l->page &&
		    l->base - L[last - 1].base < 1.45 * fmax(pitch, 1.1 * l->size) &&
		    l->base > L[last - 1].base && l->col == COL_BODY) {
			yh = l->y1;
			last = i + 1;
			continue;
		}
		if (l->y0 >= yh - 1 && l->col == COL_BODY)
			break;
	}
	for (i = p->lo; i < p->hi; i++) {
		struct line *l = &L[i];

		if (l->dead || l->page != p->n || l->y0 > yh - 1)
			continue;
		if (xpp && l->why && (strcmp(l->why, "page-number") == 0 ||
		    strcmp(l->why, "sender-column") == 0))
			l->role = R_BODY;	/* the chamber's "2", a date */
		if (l->role != R_BODY)
			continue;
		if (l->col == COL_LEFT || xpp)
			set_furn(l, "title-block");
		if (l->col == COL_LEFT || xpp)
			continue;
		else if (l->col == COL_RIGHT)
			set_furn(l, "sender-column");
		else if (starts_with(l->text.s, "Aan ") || (prev &&
		    strcmp(prev->why, "addressee") == 0 &&
		    l->base - prev->base < 1.45 * pitch))
			set_furn(l, "addressee");
		else if (l->text.s[0] == '>' || l->size < 0.85 * body_size)
			set_furn(l, "return-address");
		else
			set_furn(l, "letter-head");
		if (l->col == COL_BODY)
			prev = l;
	}
}

/* ----------------------------------------------------------- footnotes */

static int next_note = 1;

/* The number a footnote line starts with, or 0. */
static int
note_number(const struct line *l, int *is_marker)
{
	const char *s = l->text.s;
	size_t n = strspn(s, "0123456789");
	int v;

	*is_marker = 0;
	if (n == 0 || n > 3)
		return 0;
	if (s[n] != ' ' && s[n] != '\0' && s[n] != '\t')
		return 0;
	v = atoi(s);
	if (l->nrun && l->runs[0].start == 0 && l->runs[0].end >= n &&
	    (l->runs[0].rise > 0.5 || l->runs[0].size < 0.85 * l->size))
		*is_marker = 1;
	return v;
}

static void
footnotes(void)
{
	size_t pi, i;
	int had_notes = 0;

	for (pi = 0; pi < nP; pi++) {
		size_t top = SIZE_MAX, above;
		int mk, v;

		/* the run of small lines at the foot of the page */
		for (i = P[pi].hi; i-- > P[pi].lo; ) {
			struct line *l = &L[i];

			if (l->dead || l->role != R_BODY)
				continue;
			if (l->size >= 0.93 * body_size)
				break;
			top = i;
		}
		if (top == SIZE_MAX)
			continue;
		for (i = top, v = 0; i < P[pi].hi && !v; i++)
			if (!L[i].dead)
				v = note_number(&L[i], &mk);
		if (v == 0 && !(had_notes && pi > 0 && P[pi - 1].n == P[pi].n - 1))
			continue;
		/* the body line above must be clearly above */
		above = SIZE_MAX;
		for (i = top; i-- > P[pi].lo; )
			if (!L[i].dead && L[i].role == R_BODY) {
				above = i;
				break;
			}
		if (above != SIZE_MAX && L[top].base - L[above].base < 1.3 * pitch)
			continue;
		for (i = top; i < P[pi].hi; i++) {
			struct line *l = &L[i];

			if (l->dead || l->role != R_BODY)
				continue;
			l->role = R_NOTE;
		}
		had_notes = 1;
	}
}

/* --------------------------------------------------------------- lists */

static const char *bullets[] = {
	"•", "●", "▪", "■", "◦", "○", "–", "—", "-", "·", "∙", "*", "‣", "►",
	"➢", "", "", NULL
};

/* Length in bytes of a list marker at the start of l (0: none), and the
 * marker as printed (a dingbat letter becomes "•"). */
static size_t
list_marker(const struct line *l, char *out, size_t outsz, int *numbered)
{
	const char *s = l->text.s;
	size_t i, n;

	*numbered = 0;
	for (i = 0; bullets[i]; i++) {
		n = strlen(bullets[i]);
		if (strncmp(s, bullets[i], n) == 0 && s[n] == ' ' && s[n + 1]) {
			snprintf(out, outsz, "%s", bullets[i]);
			return n;
		}
	}
	/* a dingbat font's glyph read as a letter: "C de vraag ..." */
	if (strchr("Clnqouvw", s[0]) && s[1] == ' ' &&
	    islower((unsigned char)s[2])) {
		int differs = l->nrun && l->runs[0].start == 0 &&
		    l->runs[0].font_differs;

		if (differs || s[0] == 'C' || s[0] == 'l' || s[0] == 'n') {
			snprintf(out, outsz, "•");
			return 1;
		}
	}
	/* 1. 1) a. a) (1) (a) i. */
	n = 0;
	if (s[0] == '(')
		n = 1;
	i = n;
	while (isdigit((unsigned char)s[i]) && i - n < 3)
		i++;
	if (i == n && islower((unsigned char)s[i]) &&
	    (!isalpha((unsigned char)s[i + 1])))
		i++;
	if (i == n)
		return 0;
	if (s[i] == '.' && isdigit((unsigned char)s[i + 1])) {	/* 1.1 */
		i++;
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	if (n == 1 ? s[i] != ')' : (s[i] != '.' && s[i] != ')'))
		return 0;
	i++;
	if (s[i] != ' ' || !s[i + 1])
		return 0;
	snprintf(out, outsz, "%.*s", (int)i, s);
	*numbered = 1;
	return i;
}

/* ------------------------------------------------------- segmentation */

static struct block *
new_block(int kind, int page)
{
	struct block *b;

	if (nB == capB) {
		capB = capB ? capB * 2 : 64;
		B = kst_xrealloc(B, capB * sizeof *B);
	}
	b = &B[nB++];
	memset(b, 0, sizeof *b);
	b->kind = kind;
	b->page = page;
	b->gap_after = -1;
	return b;
}

static void
block_add(struct block *b, size_t li)
{
	if (b->nline == b->capline) {
		b->capline = b->capline ? b->capline * 2 : 8;
		b->lines = kst_xrealloc(b->lines, b->capline * sizeof *b->lines);
	}
	b->lines[b->nline++] = li;
}

/* Width of the first word of l, estimated from l's average glyph width. */
static double
first_word_width(const struct line *l)
{
	size_t n = strcspn(l->text.s, " ");
	size_t all = utf8_chars(l->text.s, l->text.len);
	double cw = all ? (l->x1 - l->x0) / (double)all : l->size * 0.5;

	return cw * (double)utf8_chars(l->text.s, n);
}

/* Does l end inside a URL broken after a slash ("https://", ".../")? */
static int
url_open(const struct line *l)
{
	const char *t = l->text.s, *sp = strrchr(t, ' ');
	const char *tok = sp ? sp + 1 : t, *c;
	int slashes = 0;

	if (l->text.len == 0 || t[l->text.len - 1] != '/')
		return 0;
	for (c = tok; *c; c++)
		slashes += *c == '/';
	return strstr(tok, "://") || starts_with(tok, "www.") || slashes >= 2;
}

static int
ends_hyphen(const struct line *l)
{
	return l->text.len > 1 && l->text.s[l->text.len - 1] == '-' &&
	    l->text.s[l->text.len - 2] != ' ';
}

static double
line_pitch(const struct line *l)
{
	return fmax(pitch * l->size / body_size, 1.05 * l->size);
}

/* Does line b start a new block after line a (the last line of cur)? */
static int
starts_block(const struct block *cur, const struct line *a,
    const struct line *b, int b_marker)
{
	const struct page *pg = page_of(a->page);
	double right, cw, slack;
	const struct line *first;
	char last;

	if (b_marker)
		return 1;
	if (whole_styled(a) != whole_styled(b) ||
	    (whole_styled(a) && a->style != b->style))
		return 1;
	if (fabs(a->size - b->size) > 0.15 * fmax(a->size, b->size))
		return 1;
	if (a->page == b->page) {
		double gap = b->base - a->base;

		if (gap > 1.45 * line_pitch(a) || gap < 0)
			return 1;
	}
	first = &L[cur->lines[0]];
	if (cur->kind != K_LI && cur->marker[0] == '\0') {
		double left = cur->nline > 1 ? L[cur->lines[1]].x0 : first->x0;

		if (b->x0 > left + 0.8 * b->size && b->x0 < left + 8 * b->size)
			return 1;
	} else if (b->x0 < first->x0 - 2) {
		return 1;
	}
	if (ends_hyphen(a) || url_open(a))
		return 0;
	if (pg->justified && fabs(a->size - body_size) < 0.6)
		return a->x1 < pg->right - 2 * a->size;
	/* a sentence running on in lower case is no new paragraph, whatever
	 * the width estimate below says (wrapped headings, wide bold faces) */
	if (islower((unsigned char)b->text.s[0]) &&
	    isalnum((unsigned char)a->text.s[a->text.len - 1]))
		return 0;
	/* the last line of a paragraph leaves room the next word would fill */
	right = page_of(a->page)->right;
	if (a->page != b->page)
		right = pg->right;
	cw = a->size * 0.3;
	last = a->text.s[a->text.len - 1];
	slack = strchr(".?!:;", last) ? 1.0 : 1.3;
	if (a->x1 + cw + slack * first_word_width(b) < right - 2)
		return 1;
	return 0;
}

static const char *
why_of_block(const struct line *l)
{
	return l->why ? l->why : "repeated";
}

/* May furniture line l continue block cur, whose last line is p? One block
 * an item: footers, page numbers and letter-head rows stand alone; a title
 * or an address runs on over its lines. */
static int
furniture_continues(const struct block *cur, const struct line *p,
    const struct line *l)
{
	const char *c;

	if (strcmp(l->why, "sender-column") == 0)	/* label over value */
		return strcmp(cur->why, l->why) == 0 && l->base > p->base &&
		    l->base - p->base < 1.6 * l->size;
	if (strcmp(cur->why, l->why) != 0 || p->style != l->style ||
	    fabs(p->size - l->size) > 0.12 * fmax(p->size, l->size) ||
	    l->base <= p->base ||
	    l->base - p->base > 1.6 * line_pitch(p))
		return 0;
	if (starts_with(l->why, "page-") || starts_with(l->why, "running-") ||
	    strcmp(l->why, "letter-head") == 0)
		return 0;
	if (strcmp(l->why, "title-block") == 0) {
		/* a title runs on in lower case, or in capitals throughout */
		if (islower((unsigned char)l->text.s[0]))
			return 1;
		for (c = p->text.s; *c; c++)
			if (islower((unsigned char)*c))
				return 0;
		for (c = l->text.s; *c; c++)
			if (islower((unsigned char)*c))
				return 0;
	}
	return 1;
}

/* Furniture lines of a page into blocks, one column at a time within a
 * row band, so that a sender column never interleaves with the address. */
static void
furniture_blocks(int page, int top, struct block **pending, size_t *npend)
{
	struct block *open[3] = { NULL, NULL, NULL };
	size_t last[3] = { 0, 0, 0 }, i;
	const struct page *pg = page_of(page);

	for (i = pg->lo; i < pg->hi; i++) {
		struct line *l = &L[i];
		struct block *cur;
		int is_top;

		if (l->dead || l->page != page || l->role != R_FURN)
			continue;
		is_top = l->y1 < 0.5 * pg->h;
		if (is_top != top)
			continue;
		cur = open[l->col];
		if (cur && furniture_continues(cur, &L[last[l->col]], l)) {
			block_add(cur, i);
			last[l->col] = i;
			continue;
		}
		cur = new_block(K_FURN, page);
		cur->why = why_of_block(l);
		block_add(cur, i);
		pending[(*npend)++] = cur;
		open[l->col] = cur;
		last[l->col] = i;
	}
}

/* A dash at the start of a line right under a sentence that has not ended
 * is a parenthetical dash ("Qredits ondersteunt – gesubsidieerd …"), not
 * a list item; under a list item it is the next item, punctuated or not. */
static int
dash_runs_on(const struct line *a, const struct line *b, const char *marker)
{
	unsigned char c;

	if (strcmp(marker, "–") != 0 && strcmp(marker, "—") != 0 &&
	    strcmp(marker, "-") != 0)
		return 0;
	if (a->page != b->page || b->base - a->base > 1.45 * line_pitch(a) ||
	    a->text.len == 0)
		return 0;
	c = (unsigned char)a->text.s[a->text.len - 1];
	return islower(c) || c == ',' || c >= 0x80;
}

/* Builds B[] in reading order. Furniture and footnotes of a page are held
 * back while a paragraph runs on into the next page, so that the
 * paragraph stays one block. */
static void
segment(void)
{
	struct block **pend, **order;
	size_t npend = 0, nord = 0, pi, i, cap;
	struct block *cur = NULL;
	struct block *tmp;
	size_t last = 0;
	int have_last = 0;

	cap = nL * 2 + 16;
	pend = kst_xmalloc(cap * sizeof *pend);
	order = kst_xmalloc(cap * sizeof *order);
	/* pointers into B must stay valid: reserve up front */
	capB = cap;
	B = kst_xrealloc(B, capB * sizeof *B);
	for (pi = 0; pi < nP; pi++) {
		int page = P[pi].n;
		struct block *note = NULL;
		int mk;

		furniture_blocks(page, 1, pend, &npend);
		if (cur == NULL) {
			for (i = 0; i < npend; i++)
				order[nord++] = pend[i];
			npend = 0;
		}
		for (i = P[pi].lo; i < P[pi].hi; i++) {
			struct line *l = &L[i];
			char mbuf[32];
			int numbered;
			size_t mlen;

			if (l->dead || l->page != page || l->role != R_BODY)
				continue;
			mlen = list_marker(l, mbuf, sizeof mbuf, &numbered);
			if (mlen && have_last && cur->kind != K_LI &&
			    dash_runs_on(&L[last], l, mbuf))
				mlen = 0;
			if (cur == NULL || !have_last ||
			    starts_block(cur, &L[last], l, mlen > 0)) {
				if (cur) {
					if (L[last].page == l->page)
						cur->gap_after = l->base - L[last].base;
					order[nord++] = cur;
					for (size_t k = 0; k < npend; k++)
						order[nord++] = pend[k];
					npend = 0;
				}
				cur = new_block(mlen ? K_LI : K_AL, page);
				if (mlen) {
					snprintf(cur->marker, sizeof cur->marker, "%s", mbuf);
					cur->marker_len = mlen;
					if (numbered && whole_styled(l)) {
						cur->kind = K_KOP;	/* keeps its number */
						cur->marker_len = 0;
					}
				}
			}
			block_add(cur, i);
			last = i;
			have_last = 1;
		}
		furniture_blocks(page, 0, pend, &npend);
		/* footnotes of this page */
		for (i = P[pi].lo; i < P[pi].hi; i++) {
			struct line *l = &L[i];
			int v;

			if (l->dead || l->page != page || l->role != R_NOTE)
				continue;
			v = note_number(l, &mk);
			if (note == NULL || (v > 0 && (v == next_note || mk))) {
				note = new_block(K_NOTE, page);
				pend[npend++] = note;
				if (v > 0 && v != next_note && next_note > 1)
					add_warn("layout-notes", "page %d: footnote %d "
					    "follows footnote %d", page, v, next_note - 1);
				if (v > 0)
					next_note = v + 1;
			}
			block_add(note, i);
		}
		if (cur == NULL) {
			for (i = 0; i < npend; i++)
				order[nord++] = pend[i];
			npend = 0;
		}
	}
	if (cur)
		order[nord++] = cur;
	for (i = 0; i < npend; i++)
		order[nord++] = pend[i];
	/* put B[] in reading order */
	tmp = kst_xmalloc((nord + 1) * sizeof *tmp);
	for (i = 0; i < nord; i++)
		tmp[i] = *order[i];
	free(B);
	B = tmp;
	nB = nord;
	capB = nord + 1;
	free(pend);
	free(order);
}

/* ------------------------------------------------------- dehyphenation */

struct set {
	char **key;
	unsigned char *hit;
	size_t cap, n;
};

static struct set queries, docwords;

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static size_t
set_find(const struct set *st, const char *s, size_t n)
{
	size_t i = hash(s, n) & (st->cap - 1);

	while (st->key[i] && (strlen(st->key[i]) != n ||
	    memcmp(st->key[i], s, n) != 0))
		i = (i + 1) & (st->cap - 1);
	return i;
}

static void
set_add(struct set *st, const char *s, size_t n)
{
	size_t i;

	if (st->n * 2 >= st->cap) {
		struct set big;
		size_t k;

		big.cap = st->cap ? st->cap * 2 : 256;
		big.n = 0;
		big.key = calloc(big.cap, sizeof *big.key);
		big.hit = calloc(big.cap, 1);
		if (!big.key || !big.hit)
			kst_die(KST_ELIMIT, "out of memory");
		for (k = 0; k < st->cap; k++) {
			if (!st->key[k])
				continue;
			i = set_find(&big, st->key[k], strlen(st->key[k]));
			big.key[i] = st->key[k];
			big.hit[i] = st->hit[k];
			big.n++;
		}
		free(st->key);
		free(st->hit);
		*st = big;
	}
	i = set_find(st, s, n);
	if (st->key[i])
		return;
	st->key[i] = kst_xmalloc(n + 1);
	memcpy(st->key[i], s, n);
	st->key[i][n] = '\0';
	st->n++;
}

static int
set_has(const struct set *st, const char *s, size_t n, int need_hit)
{
	size_t i;

	if (st->cap == 0)
		return 0;
	i = set_find(st, s, n);
	return st->key[i] && (!need_hit || st->hit[i]);
}

static void
set_free(struct set *st)
{
	size_t i;

	for (i = 0; i < st->cap; i++)
		free(st->key[i]);
	free(st->key);
	free(st->hit);
	memset(st, 0, sizeof *st);
}

static void
lower_ascii(struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		b->s[i] = (char)tolower((unsigned char)b->s[i]);
}

static int
wordch(int c)
{
	return isalnum(c) || c >= 0x80;
}

/* The word fragment before the hyphen ending line a, and the word that
 * starts line b (trailing punctuation off). */
static void
hyphen_parts(const struct line *a, const struct line *b, struct buf *w,
    struct buf *v)
{
	const char *s = a->text.s;
	size_t end = a->text.len - 1, st = end, n;

	while (st > 0 && s[st - 1] != ' ')
		st--;
	while (st < end && strchr("([{\"'", s[st]))
		st++;
	if (end - st >= 3 && (unsigned char)s[st] == 0xe2 &&	/* « “ ‘ */
	    ((unsigned char)s[st + 1] == 0x80 || (unsigned char)s[st + 1] == 0x82))
		st += 3;
	if (end - st >= 2 && (unsigned char)s[st] == 0xc2 && (unsigned char)s[st + 1] == 0xab)
		st += 2;
	buf_clear(w);
	buf_add(w, s + st, end - st);
	n = strcspn(b->text.s, " ");
	while (n > 0 && !wordch((unsigned char)b->text.s[n - 1]))
		n--;
	buf_clear(v);
	buf_add(v, b->text.s, n);
}

static const char *conjunctions[] = {
	"en", "of", "tot", "noch", "als", "dan", "t/m", "&", "and", "or", NULL
};

static int
has_vowel(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr("aeiouyAEIOUY", s[i]) || (unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

enum { J_JOIN, J_KEEP, J_SPACE };

/* Decides how a line ending in a hyphen joins the next: J_JOIN drops the
 * hyphen (a typesetter's break), J_KEEP keeps it ("ICT-beleid"),
 * J_SPACE keeps it and a space ("Basis- en Voortgezet"). With probe set,
 * only registers the dictionary look-ups the decision will need. */
static int
hyphen_join(const struct line *a, const struct line *b, int probe)
{
	struct buf w = BUF_INIT, v = BUF_INIT, q = BUF_INIT;
	const char *c;
	size_t i;
	int r = J_JOIN;
	char last;

	hyphen_parts(a, b, &w, &v);
	for (i = 0; conjunctions[i]; i++)
		if (strcmp(v.s ? v.s : "", conjunctions[i]) == 0 &&
		    (b->text.s[v.len] == ' ' || b->text.s[v.len] == '\0')) {
			r = J_SPACE;
			goto out;
		}
	if (w.len == 0 || v.len == 0) {
		r = J_KEEP;
		goto out;
	}
	/* URLs, codes, file names */
	if (strstr(w.s, "://") || strstr(w.s, "www.") || strchr(w.s, '/') ||
	    strchr(w.s, '_') || strchr(w.s, '@') || v.s[0] == '_' ||
	    strchr(v.s, '/')) {
		r = J_KEEP;
		goto out;
	}
	last = w.s[w.len - 1];
	if (isdigit((unsigned char)last) || isupper((unsigned char)last) ||
	    isdigit((unsigned char)v.s[0]) || isupper((unsigned char)v.s[0])) {
		r = J_KEEP;
		goto out;
	}
	/* a part that cannot be a syllable: "e-learning", "btw-plichtig" */
	c = strrchr(w.s, '-');
	c = c ? c + 1 : w.s;
	if (strlen(c) < 2 || !has_vowel(c, strlen(c))) {
		r = J_KEEP;
		goto out;
	}
	for (i = 1; i < strlen(c); i++)
		if (isupper((unsigned char)c[i])) {	/* "EU-", "MiFID-" */
			r = J_KEEP;
			goto out;
		}
	/* the document itself, then the word list */
	buf_printf(&q, "%s-%s", c, v.s);
	lower_ascii(&q);
	if (probe)
		set_add(&queries, q.s, q.len);
	else if (set_has(&docwords, q.s, q.len, 0) ||
	    set_has(&queries, q.s, q.len, 1)) {
		r = J_KEEP;
		goto out;
	}
	buf_clear(&q);
	buf_printf(&q, "%s%s", c, v.s);
	lower_ascii(&q);
	if (probe) {
		set_add(&queries, q.s, q.len);
		buf_clear(&q);
		buf_adds(&q, c);
		lower_ascii(&q);
		set_add(&queries, q.s, q.len);
		buf_clear(&q);
		buf_adds(&q, v.s);
		lower_ascii(&q);
		set_add(&queries, q.s, q.len);
		goto out;
	}
	r = J_JOIN;
	if (set_has(&queries, q.s, q.len, 1) || strlen(c) > 4)
		goto out;
	/* neither spelling known: a short unknown part before a known word
	 * is an abbreviation ("otc-derivaten"), not a syllable */
	buf_clear(&q);
	buf_adds(&q, c);
	lower_ascii(&q);
	if (set_has(&queries, q.s, q.len, 1))
		goto out;
	buf_clear(&q);
	buf_adds(&q, v.s);
	lower_ascii(&q);
	if (set_has(&queries, q.s, q.len, 1))
		r = J_KEEP;
out:
	buf_free(&w);
	buf_free(&v);
	buf_free(&q);
	return r;
}

/* Sort key of a word-list entry: letters and digits only, lower case,
 * accents off. The list is in Dutch collation order, which this key
 * follows closely enough to binary-search on (the few entries it puts out
 * of order hold sub- and superscripts, never a broken word). */
static size_t
dict_key(const char *s, size_t n, char *out, size_t outsz)
{
	static const char latin1[] =	/* U+00C0..U+00FF to a base letter */
	    "aaaaaaaceeeeiiii" "dnooooo.ouuuuyts"
	    "aaaaaaaceeeeiiii" "dnooooo.ouuuuyty";
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80) {
			if (isalnum(c))
				out[k++] = (char)tolower(c);
			continue;
		}
		if (c == 0xc3 && i + 1 < n) {
			unsigned char d = (unsigned char)s[++i];

			if (d >= 0x80 && d <= 0xbf && latin1[d - 0x80] != '.')
				out[k++] = latin1[d - 0x80];
			continue;
		}
	}
	out[k] = '\0';
	return k;
}

/* Is word (lower case) in the sorted list m[0..size)? Binary search on
 * line starts, then a short linear scan: a few pages touched, not 5 MB. */
static int
dict_has(const char *m, size_t size, const char *word)
{
	char qk[256], lk[256];
	size_t lo = 0, hi = size, wn = strlen(word);
	const char *p;

	dict_key(word, wn, qk, sizeof qk);
	while (hi - lo > 4096) {
		size_t mid = lo + (hi - lo) / 2, ls, le;

		p = memchr(m + mid, '\n', size - mid);
		if (p == NULL || (size_t)(p + 1 - m) >= hi)
			break;
		ls = (size_t)(p + 1 - m);
		p = memchr(m + ls, '\n', size - ls);
		le = p ? (size_t)(p - m) : size;
		dict_key(m + ls, le - ls, lk, sizeof lk);
		if (strcmp(lk, qk) < 0)
			lo = ls;
		else
			hi = ls;
	}
	for (p = m + lo; p < m + size; ) {
		const char *nl = memchr(p, '\n', (size_t)(m + size - p));
		size_t n, i;

		if (nl == NULL)
			nl = m + size;
		n = (size_t)(nl - p);
		dict_key(p, n, lk, sizeof lk);
		if (strcmp(lk, qk) > 0 && p > m + hi)
			break;
		if (n == wn) {
			for (i = 0; i < n &&
			    tolower((unsigned char)p[i]) == (unsigned char)word[i]; i++)
				;
			if (i == n)
				return 1;
		}
		p = nl + 1;
	}
	return 0;
}

/* Looks up every queued word in the Dutch word list (wdutch), mapped
 * only when some line of the document ends in a hyphen. */
static void
lookup_dictionary(void)
{
	const char *path = getenv("KST_DICT");
	struct stat sb;
	const char *m;
	size_t k;
	int fd;

	if (queries.n == 0)
		return;
	if (path == NULL)
		path = DICT_PATH;
	if (*path == '\0')
		return;
	if ((fd = open(path, O_RDONLY)) < 0) {
		add_warn("layout-dict", "no Dutch word list at %s: line-end "
		    "hyphens decided without it", path);
		return;
	}
	if (fstat(fd, &sb) < 0 || sb.st_size == 0) {
		close(fd);
		return;
	}
	m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	for (k = 0; k < queries.cap; k++)
		if (queries.key[k])
			queries.hit[k] = (unsigned char)dict_has(m,
			    (size_t)sb.st_size, queries.key[k]);
	munmap((void *)m, (size_t)sb.st_size);
}

/* Words printed whole in the document, hyphenated compounds included:
 * the best evidence for how a broken word is spelled. */
static void
collect_docwords(void)
{
	size_t i;
	struct buf w = BUF_INIT;

	for (i = 0; i < nL; i++) {
		const char *s = L[i].text.s, *e;

		if (L[i].dead)
			continue;
		while (*s) {
			while (*s == ' ')
				s++;
			e = s + strcspn(s, " ");
			if (*e == '\0' && e > s && e[-1] == '-')
				break;	/* the broken word itself */
			buf_clear(&w);
			while (s < e && !wordch((unsigned char)*s))
				s++;
			buf_add(&w, s, (size_t)(e - s));
			while (w.len && !wordch((unsigned char)w.s[w.len - 1]))
				w.s[--w.len] = '\0';
			lower_ascii(&w);
			if (w.len && strchr(w.s, '-'))
				set_add(&docwords, w.s, w.len);
			s = e;
		}
	}
	buf_free(&w);
}

/* -------------------------------------------------------- block text */

struct tagrec {
	size_t start, end;
	int sup;		/* 1 sup, 0 nadruk */
	double size, rise;
	int style;
};

static struct tagrec *T;
static size_t nT, capT;

static void
push_tag(const struct block *b, size_t start, size_t end, int style)
{
	struct tagrec t;

	memset(&t, 0, sizeof t);
	while (start < end && b->text.s[start] == ' ')
		start++;
	while (end > start && b->text.s[end - 1] == ' ')
		end--;
	if (end <= start)
		return;
	t.start = start;
	t.end = end;
	t.style = style;
	if (nT == capT) {
		capT = capT ? capT * 2 : 64;
		T = kst_xrealloc(T, capT * sizeof *T);
	}
	T[nT++] = t;
}

static int
by_start(const void *a, const void *b)
{
	const struct tagrec *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->sup - y->sup;
}

/* Appends l's text from byte `from` to b->text, white space collapsed,
 * mapping the line's runs onto block offsets. */
static void
append_line(struct block *b, const struct line *l, size_t from, size_t upto,
    int tags)
{
	size_t *map = kst_xmalloc((l->text.len + 1) * sizeof *map);
	size_t i, r, n;
	int sp = b->text.len > 0 && b->text.s[b->text.len - 1] != ' ' &&
	    b->text.s[b->text.len - 1] != '\n' ? 0 : 1;
	char *out;

	for (i = 0; i < from; i++)
		map[i] = b->text.len;
	/* Each byte in gives at most one out: room is made once, and the
	 * bytes are stored directly (appending them one by one was a
	 * quarter of the stage's time on a long document). */
	buf_reserve(&b->text, upto > from ? upto - from : 0);
	out = b->text.s;
	n = b->text.len;
	for (i = from; i < upto; i++) {
		unsigned char c = (unsigned char)l->text.s[i];

		map[i] = n;
		if (isspace(c) || (c == 0xc2 && (unsigned char)l->text.s[i + 1] == 0xa0)) {
			if (c == 0xc2)
				i++, map[i] = n;
			if (!sp)
				out[n++] = ' ';
			sp = 1;
			continue;
		}
		out[n++] = (char)c;
		sp = 0;
	}
	out[n] = '\0';
	b->text.len = n;
	for (i = upto; i <= l->text.len; i++)
		map[i] = b->text.len;
	if (tags && l->style && !whole_styled(l)) {
		/* a line set mostly in italic: the stretches between its
		 * roman runs are the emphasis */
		size_t pos = from;

		for (r = 0; r < l->nrun; r++) {
			const struct run *u = &l->runs[r];

			if (u->start < pos || u->rise > 0.5 ||
			    (u->style & l->style) == l->style)
				continue;
			push_tag(b, map[pos], map[u->start], l->style);
			pos = u->end;
		}
		if (pos < upto)
			push_tag(b, map[pos], map[upto], l->style);
	}
	for (r = 0; tags && r < l->nrun; r++) {
		const struct run *u = &l->runs[r];
		struct tagrec t;

		if (u->start < from)
			continue;
		memset(&t, 0, sizeof t);
		t.start = map[u->start];
		t.end = map[u->end > upto ? upto : u->end];
		while (t.end > t.start && b->text.s[t.end - 1] == ' ')
			t.end--;
		if (t.end <= t.start)
			continue;
		if (u->rise > 0.5 || u->size < 0.85 * l->size) {
			t.sup = 1;
			t.size = u->size;
			t.rise = u->rise;
		} else if (u->style && u->style != l->style) {
			t.style = u->style;
		} else {
			continue;
		}
		if (nT == capT) {
			capT = capT ? capT * 2 : 64;
			T = kst_xrealloc(T, capT * sizeof *T);
		}
		T[nT++] = t;
	}
	free(map);
}

static void
trim_block(struct block *b)
{
	while (b->text.len && b->text.s[b->text.len - 1] == ' ')
		b->text.s[--b->text.len] = '\0';
}

/* ------------------------------------------------------ classification */

static int
match_any(const char *s, const char **list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

static const char *closings[] = {
	"en gaat over tot de orde van de dag.", "Hoogachtend,", "Hoogachtend",
	"Met vriendelijke groet,", "Met vriendelijke groet",
	"Met vriendelijke groeten,", "Met hoogachting,", NULL
};

static double
block_width(const struct block *b)
{
	size_t i;
	double w = 0;

	for (i = 0; i < b->nline; i++)
		w = fmax(w, L[b->lines[i]].x1 - L[b->lines[i]].x0);
	return w;
}

static int
is_body(const struct block *b)
{
	return b->kind != K_FURN && b->kind != K_NOTE;
}

static int
all_styled(const struct block *b)
{
	size_t i;

	for (i = 0; i < b->nline; i++)
		if (!whole_styled(&L[b->lines[i]]))
			return 0;
	return 1;
}

static int
is_dateline(const char *s)
{
	const char *c = strstr(s, ", ");
	int d, y, n = 0;
	char mon[16];

	if (c == NULL || c - s > 30 || !isupper((unsigned char)s[0]))
		return 0;
	return sscanf(c + 2, "%d %15s %d%n", &d, mon, &y, &n) == 3 &&
	    c[2 + n] == '\0' && y > 1800 && islower((unsigned char)mon[0]);
}

/* A block that reads as a sentence: it ends in a full stop, question or
 * exclamation mark. */
static int
sentence_like(const struct block *b)
{
	const char *t = buf_str(&b->text);

	return b->text.len > 0 && strchr(".?!", t[b->text.len - 1]) != NULL;
}

static void
classify(void)
{
	size_t i, nbody = 0;
	double colw = col_right - col_left;
	int numlevel = 0;

	for (i = 0; i < nB; i++) {
		struct block *b = &B[i];
		const char *t = b->text.s ? b->text.s : "";
		size_t n = b->text.len;
		char lastc = n ? t[n - 1] : '\0';

		if (!is_body(b))
			continue;
		nbody++;
		if (nbody <= 3 && b->kind == K_AL &&
		    (strcmp(t, "De Kamer,") == 0 || starts_with(t, "Aan de ") ||
		    starts_with(t, "Geachte "))) {
			b->kind = K_AANHEF;
			continue;
		}
		if (nbody <= 4 && b->kind == K_AL && is_dateline(t)) {
			b->kind = K_FURN;
			b->why = "dateline";
			continue;
		}
		if (b->kind == K_AL && match_any(t, closings)) {
			b->kind = K_SLOT;
			continue;
		}
		if (b->kind == K_KOP) {	/* numbered and emphasised */
			b->level = strchr(b->marker, '.') &&
			    isdigit((unsigned char)b->marker[0]) ? 1 : 2;
			if (isdigit((unsigned char)b->marker[0]))
				b->level += (int)(strchr(b->marker, '.') !=
				    strrchr(b->marker, '.'));
			numlevel = b->level;
			continue;
		}
		if (b->kind == K_AL && b->nline <= 3 && all_styled(b) &&
		    lastc != '.' && lastc != ';' && lastc != ',') {
			b->kind = K_KOP;
			b->level = (L[b->lines[0]].style & ST_B) ? 1 : 2;
			if (b->level > 1 && numlevel && b->level <= numlevel)
				b->level = numlevel + 1;
			continue;
		}
		/* "Vraag 1": a short unpunctuated line right on top of text */
		if (b->kind == K_AL && b->nline == 1 && n < 60 &&
		    !strchr(".,;:?!", lastc) && isupper((unsigned char)t[0]) &&
		    block_width(b) < 0.6 * colw && b->gap_after > 0 &&
		    b->gap_after < 1.45 * pitch && i + 1 < nB &&
		    is_body(&B[i + 1]) && (B[i + 1].nline >= 2 ||
		    sentence_like(&B[i + 1]))) {
			b->kind = K_KOP;
			b->level = 3;
		}
	}
	/* signatures: the short unpunctuated blocks that end the body */
	for (i = nB; i-- > 0; ) {
		struct block *b = &B[i];
		const char *t = b->text.s ? b->text.s : "";
		char lastc = b->text.len ? t[b->text.len - 1] : '\0';

		if (!is_body(b) || b->kind == K_ONDER)
			continue;
		if (b->kind != K_AL || b->nline > 4 || b->text.len > 160 ||
		    (block_width(b) > 0.6 * colw && lastc != ','))
			break;
		if (lastc == '.' && !(b->text.len > 2 && t[b->text.len - 3] == ' ')
		    && !(b->text.len < 40 && strchr(t, '.') != t + b->text.len - 1))
			break;
		b->kind = K_ONDER;
	}
}

static void
list_levels(void)
{
	double stackx[16];
	char stackm[16][32];
	size_t depth = 0, i, k;

	for (i = 0; i < nB; i++) {
		struct block *b = &B[i];
		double x;

		if (!is_body(b))
			continue;
		if (b->kind != K_LI) {
			depth = 0;
			continue;
		}
		x = L[b->lines[0]].x0;
		for (k = 0; k < depth; k++)
			if (fabs(stackx[k] - x) < 2 && strcmp(stackm[k], b->marker) == 0)
				break;
		if (k < depth) {
			depth = k + 1;
		} else {
			while (depth > 0 && stackx[depth - 1] > x + 2)
				depth--;
			if (depth < 16) {
				stackx[depth] = x;
				snprintf(stackm[depth], sizeof stackm[depth], "%s",
				    b->marker);
				depth++;
			}
		}
		/* numbered items of one kind share a level whatever their number */
		b->level = (int)depth;
		if (isdigit((unsigned char)b->marker[0]) && depth > 1 &&
		    isdigit((unsigned char)stackm[depth - 2][0]) &&
		    fabs(stackx[depth - 2] - x) < 2) {
			depth--;
			snprintf(stackm[depth - 1], sizeof stackm[depth - 1], "%s",
			    b->marker);
			b->level = (int)depth;
		}
	}
}

/* Lines but no body text: all of it taken for furniture or notes. */
static void
body_check(void)
{
	size_t i, lines = 0;

	for (i = 0; i < nL; i++)
		lines += !L[i].dead;
	for (i = 0; i < nB; i++)
		if (is_body(&B[i]) && B[i].text.len)
			return;
	if (lines)
		add_warn("layout-empty", "%zu text lines but no body text: "
		    "everything was taken for page furniture or footnotes", lines);
}

/* ------------------------------------------------------------- output */

/* Joins the block's lines into its text: one space between lines, none
 * after a broken word or inside a URL broken after a slash. */
static void
join_lines(struct block *b, struct block *into, int tags)
{
	size_t k;

	for (k = 0; k < b->nline; k++) {
		const struct line *l = &L[b->lines[k]];
		size_t from = k == 0 ? b->marker_len : 0;
		size_t upto = l->text.len;
		int j = J_SPACE;

		if (k + 1 < b->nline && ends_hyphen(l)) {
			j = hyphen_join(l, &L[b->lines[k + 1]], 0);
			if (j == J_JOIN)
				upto--;
		} else if (k + 1 < b->nline && url_open(l)) {
			j = J_KEEP;
		}
		append_line(into, l, from, upto, tags);
		trim_block(into);
		if (k + 1 < b->nline && j == J_SPACE)
			buf_addc(&into->text, ' ');
	}
	trim_block(into);
}

static void
build_texts(void)
{
	size_t i;

	for (i = 0; i < nB; i++) {
		join_lines(&B[i], &B[i], 0);
		if (B[i].text.s == NULL)
			buf_adds(&B[i].text, "");
	}
}

static void
probe_hyphens(void)
{
	size_t i, k;

	for (i = 0; i < nB; i++)
		for (k = 0; k + 1 < B[i].nline; k++)
			if (ends_hyphen(&L[B[i].lines[k]]))
				hyphen_join(&L[B[i].lines[k]], &L[B[i].lines[k + 1]], 1);
}

/* Tags need the final text: rebuild it once more, this time mapping
 * runs, and check the result is the same text. */
static void
emit_tags(FILE *out, const struct block *b, long id)
{
	struct block tmp;
	size_t t;

	if (b->kind == K_FURN || b->kind == K_NOTE)
		return;
	memset(&tmp, 0, sizeof tmp);
	nT = 0;
	join_lines((struct block *)b, &tmp, 1);
	if (tmp.text.len != b->text.len) {
		buf_free(&tmp.text);
		return;
	}
	/* merge emphasis runs split only by spaces */
	if (nT > 1)
		qsort(T, nT, sizeof *T, by_start);
	for (t = 0; t < nT; t++) {
		struct tagrec *x = &T[t];
		struct buf a = BUF_INIT;

		if (x->end > b->text.len)
			continue;
		while (!x->sup && t + 1 < nT && !T[t + 1].sup &&
		    T[t + 1].style == x->style && T[t + 1].start >= x->end &&
		    strspn(b->text.s + x->end, " ") >= T[t + 1].start - x->end) {
			x->end = T[t + 1].end;
			memmove(&T[t + 1], &T[t + 2], (nT - t - 2) * sizeof *T);
			nT--;
		}
		if (b->kind == K_KOP && !x->sup)
			continue;
		rec_begin(out, "tag");
		rec_long_field(out, id);
		rec_long_field(out, (long)x->start);
		rec_long_field(out, (long)x->end);
		if (x->sup) {
			char v[32];

			rec_field(out, "sup");
			snprintf(v, sizeof v, "%.2f", x->size);
			attr_add(&a, "size", v);
			snprintf(v, sizeof v, "%.2f", x->rise);
			attr_add(&a, "rise", v);
			rec_field(out, attr_field(&a));
			rec_field(out, "layout:superscript");
		} else {
			rec_field(out, "nadruk");
			attr_add(&a, "type", x->style == (ST_B | ST_I) ?
			    "vetcursief" : (x->style & ST_B) ? "vet" : "cursief");
			rec_field(out, attr_field(&a));
			rec_field(out, "layout:emphasis");
		}
		rec_end(out);
		buf_free(&a);
	}
	buf_free(&tmp.text);
}

static void
write_block(FILE *out, long id, int kind, int page, const struct buf *attrs,
    const char *text)
{
	rec_begin(out, "block");
	rec_long_field(out, id);
	rec_field(out, kind_name[kind]);
	rec_long_field(out, page);
	rec_field(out, attr_field(attrs));
	rec_field(out, text);
	rec_end(out);
}

static void
write_furn_or_note(FILE *out, const struct block *b, long id)
{
	struct buf a = BUF_INIT;

	if (b->kind == K_FURN)
		attr_add(&a, "why", b->why ? b->why : "repeated");
	write_block(out, id, b->kind, b->page, &a, buf_str(&b->text));
	buf_free(&a);
}

static void
emit(FILE *out)
{
	size_t i, k;
	long id = 0;

	for (i = 0; i < nB; i++) {
		struct block *b = &B[i];
		struct buf a = BUF_INIT;
		char v[16];

		if (b->kind == K_ONDER) {	/* the signatures: one block */
			struct block one;
			size_t j;

			memset(&one, 0, sizeof one);
			for (j = i; j < nB && (B[j].kind == K_ONDER ||
			    !is_body(&B[j])); j++) {
				if (B[j].kind != K_ONDER)
					continue;
				for (k = 0; k < B[j].nline; k++) {
					size_t li = B[j].lines[k];

					if (one.text.len)
						buf_addc(&one.text, '\n');
					append_line(&one, &L[li], 0, L[li].text.len, 0);
					trim_block(&one);
				}
			}
			write_block(out, ++id, K_ONDER, b->page, &a,
			    buf_str(&one.text));
			buf_free(&one.text);
			for (k = i + 1; k < j; k++)
				if (B[k].kind != K_ONDER)
					write_furn_or_note(out, &B[k], ++id);
			i = j - 1;
			continue;
		}
		if (b->kind == K_FURN)
			attr_add(&a, "why", b->why ? b->why : "repeated");
		if (b->kind == K_KOP || b->kind == K_LI) {
			snprintf(v, sizeof v, "%d", b->level > 0 ? b->level : 1);
			attr_add(&a, "level", v);
		}
		if (b->kind == K_LI && b->marker[0])
			attr_add(&a, "marker", b->marker);
		write_block(out, ++id, b->kind, b->page, &a, buf_str(&b->text));
		emit_tags(out, b, id);
		buf_free(&a);
	}
}

/* ---------------------------------------------------------------- main */

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: kst-layout [FILE|-]\n"
	    "Turns kst-extract's lines into blocks in reading order "
	    "(docs/stream.md).\n");
}

int
main(int argc, char *argv[])
{
	struct reader r;
	FILE *in = stdin, *pass;
	const char *name = "-";
	char *passbuf = NULL;
	size_t passlen = 0, i;

	kst_setprog(argv[0]);
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return KST_OK;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("kst-layout %s\n", KST_VERSION);
		return KST_OK;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1])) {
		usage(stderr);
		return KST_EUSAGE;
	}
	if (argc == 2 && strcmp(argv[1], "-") != 0) {
		name = argv[1];
		if ((in = fopen(name, "r")) == NULL)
			kst_die(KST_ENOFILE, "%s: cannot open", name);
	}
	/* records passed through are held until the end: no partial output */
	pass = open_memstream(&passbuf, &passlen);
	if (pass == NULL)
		kst_die(KST_ELIMIT, "out of memory");
	reader_init(&r, in, name);
	while (reader_next(&r)) {
		if (rec_is(&r.rec, "line"))
			add_line(&r);
		else if (rec_is(&r.rec, "run"))
			add_run(&r);
		else {
			if (rec_is(&r.rec, "page"))
				add_page(&r);
			rec_write(pass, &r.rec);
		}
	}
	reader_free(&r);
	if (in != stdin)
		fclose(in);
	fclose(pass);

	merge_rows();
	measure();
	columns();
	repeated_furniture();
	side_columns();
	page_head();
	footnotes();
	page_edges();
	segment();
	collect_docwords();
	probe_hyphens();
	lookup_dictionary();
	build_texts();
	classify();
	body_check();
	list_levels();

	stream_header(stdout);
	fwrite(passbuf, 1, passlen, stdout);
	emit(stdout);
	fwrite(buf_str(&warns), 1, warns.len, stdout);
	kst_close_stdout();
	buf_free(&warns);

	free(passbuf);
	for (i = 0; i < nB; i++) {
		free(B[i].lines);
		buf_free(&B[i].text);
	}
	free(B);
	for (i = 0; i < nL; i++) {
		buf_free(&L[i].text);
		free(L[i].font);
		free(L[i].runs);
	}
	free(L);
	free(P);
	free(T);
	set_free(&queries);
	set_free(&docwords);
	return KST_OK;
}
