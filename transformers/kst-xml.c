/* kst-xml - the last stage: turns the kst stream into XML that follows
 * schemas/kamerstuk.xsd (docs/schema.md).
 *
 *	kst-xml [FILE|-] > a.xml
 *
 * Reads the whole stream first (tags may come after their blocks, from any
 * tagger), then writes the document by hand: libxml2 would cost start-up time
 * and buys nothing for a writer. The output is built in memory and written
 * only when complete, so a malformed stream leaves stdout empty. Everything
 * kst-xml repairs or drops is said in a conversie/melding, so the XML itself
 * tells what went wrong, and the output always validates. */
#include "buf.h"
#include "kst.h"
#include "stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXDEPTH 32		/* deepest list nesting kept; deeper is flattened */

struct block {
	long id;
	long page;
	char *kind;
	char *attrs;
	char *text;
	size_t len;
	size_t tag0, ntag;	/* its tags: a run of the sorted tag array */
};

enum tagkind { T_OTHER, T_NOOTREF, T_VERWIJZING, T_NADRUK, T_NOOT,
	T_TOEZEGGING, T_NAKOMING };

struct tag {
	long blockid;
	size_t bi;		/* index into blocks */
	size_t start, end;
	enum tagkind kind;
	char *kindname;
	char *attrs;
	char *rule;
	size_t seq;		/* order in the stream: the tie-breaker */
};

struct meta {
	char *key;
	char *attrs;
	char *value;
	int used;
};

struct melding {
	char *code;
	char *text;
};

struct segment {		/* a stretch of a voetnoot block inside one noot */
	size_t bi, start, end;
};

struct noot {
	char *id;
	char *nr;
	char *rule;
	long page;
	struct segment *seg;
	size_t nseg;
};

struct doc {
	struct block *blocks;
	size_t nblock;
	struct tag *tags;
	size_t ntag;
	struct meta *metas;
	size_t nmeta;
	struct melding *meldingen;
	size_t nmelding;
	struct noot *noten;
	size_t nnoot;
	int have_source;
	char *src_path, *src_sha;
	long src_bytes, src_pages;
	size_t *noot_hash;	/* open addressing: index + 1, 0 = empty */
	size_t hash_cap;
	char **warned_attrs;	/* unknown verwijzing keys already reported */
	size_t nwarned;
	size_t bad_utf8, illegal;	/* repairs made while escaping */
};

static struct doc D;

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: %s [FILE|-]\n"
	    "Reads a kst stream and writes the Kamerstuk XML "
	    "(schemas/kamerstuk.xsd) to stdout.\n", kst_progname);
}

/* Makes room for element n of arr: the capacity doubles at each power of
 * two, so appending stays linear. */
#define GROW(arr, n) do { if (((n) & ((n) - 1)) == 0) \
	(arr) = kst_xrealloc((arr), ((n) ? 2 * (n) : 1) * sizeof(*(arr))); \
	} while (0)

static void
melding(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
melding(const char *code, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(&b, n > 0 ? (size_t)n : 0);
	va_start(ap, fmt);
	vsnprintf(b.s, b.cap, fmt, ap);
	va_end(ap);
	b.len = strlen(b.s);
	GROW(D.meldingen, D.nmelding);
	D.meldingen[D.nmelding].code = kst_xstrdup(code);
	D.meldingen[D.nmelding].text = buf_detach(&b);
	D.nmelding++;
}

/* ------------------------------------------------------------ escaping */

/* Length of the valid UTF-8 sequence at s (n bytes left) and its code
 * point, or 0 when the bytes are not valid UTF-8 (overlong forms and
 * surrogates included). */
static size_t
utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xBF;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		*cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		*cp = s[0] & 0x0F;
		if (s[0] == 0xE0)
			lo = 0xA0;
		if (s[0] == 0xED)
			hi = 0x9F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		*cp = s[0] & 0x07;
		if (s[0] == 0xF0)
			lo = 0x90;
		if (s[0] == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	return len;
}

static int
xml_legal(unsigned long c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
	    (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* Appends s[0..n) escaped for XML content (attr = 0) or a double-quoted
 * attribute value (attr = 1). Invalid UTF-8 becomes U+FFFD and characters
 * XML 1.0 forbids are dropped; both are counted in D for a melding. Line
 * breaks become character references so that a block stays on one line. */
/* What character c becomes, or NULL when it is written as it is. */
static const char *
escape_of(unsigned long c, int attr)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return attr ? "&quot;" : NULL;
	case '\n': return "&#10;";
	case '\r': return "&#13;";
	case '\t': return attr ? "&#9;" : NULL;
	default: return NULL;
	}
}

/* The runs of characters written as they are go into b in one piece:
 * appending them one at a time was 40 % of kst-xml's instructions. */
static void
put_escaped(struct buf *b, const char *s, size_t n, int attr)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, len;	/* s[run..i) is still to be copied */
	unsigned long c;
	const char *rep;

	while (i < n) {
		len = utf8_decode(u + i, n - i, &c);
		if (len == 0) {
			rep = "\xEF\xBF\xBD";
			D.bad_utf8++;
			len = 1;
		} else if (!xml_legal(c)) {
			rep = "";
			D.illegal++;
		} else if ((rep = escape_of(c, attr)) == NULL) {
			i += len;
			continue;
		}
		buf_add(b, s + run, i - run);
		buf_adds(b, rep);
		i += len;
		run = i;
	}
	buf_add(b, s + run, i - run);
}

static void
put_text(struct buf *b, const char *s)
{
	put_escaped(b, s, strlen(s), 0);
}

static void
put_attr(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, " %s=\"", name);
	put_escaped(b, value, strlen(value), 1);
	buf_addc(b, '"');
}

/* After escaping one unit (a block, a meta field): say what was repaired. */
static void
report_repairs(const char *where)
{
	if (D.bad_utf8)
		melding("xml-utf8", "%s: %zu invalid UTF-8 byte(s) replaced by "
		    "U+FFFD", where, D.bad_utf8);
	if (D.illegal)
		melding("xml-char", "%s: %zu character(s) not allowed in XML "
		    "removed", where, D.illegal);
	D.bad_utf8 = D.illegal = 0;
}

static void
indent(struct buf *b, int n)
{
	while (n-- > 0)
		buf_addc(b, ' ');
}

/* attr_get, but the value is always a string, "" for "key=". */
static int
attr(const char *attrs, const char *key, struct buf *v)
{
	if (!attr_get(attrs, key, v))
		return 0;
	buf_add(v, "", 0);
	return 1;
}

/* ------------------------------------------------------ value checks */

static int
all_of(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

#define DIGITS "0123456789"
#define ALNUM DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* [a-z]+(-[0-9A-Za-z]+)+ as in the schema's ParlId. */
static int
valid_parlid(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"), parts = 0;

	if (n == 0)
		return 0;
	s += n;
	while (*s == '-') {
		n = strspn(s + 1, ALNUM);
		if (n == 0)
			return 0;
		s += 1 + n;
		parts++;
	}
	return *s == '\0' && parts > 0;
}

static int
valid_ondernummer(const char *s)
{
	return strspn(s, DIGITS) > 0 && all_of(s, ALNUM "-");
}

static int
valid_vergaderjaar(const char *s)
{
	return strlen(s) == 9 && strspn(s, DIGITS) == 4 && s[4] == '-' &&
	    strspn(s + 5, DIGITS) == 4;
}

/* An xs:date without time zone: YYYY-MM-DD that exists in the calendar. */
static int
valid_date(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (strlen(s) != 10 || strspn(s, DIGITS) != 4 || s[4] != '-' ||
	    strspn(s + 5, DIGITS) != 2 || s[7] != '-' || strspn(s + 8, DIGITS) != 2)
		return 0;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	return 1;
}

static int
valid_sha256(const char *s)
{
	return strlen(s) == 64 && all_of(s, "0123456789abcdef");
}

/* --------------------------------------------------------- reading */

static long
positive(const struct reader *r, size_t i, const char *what)
{
	long v = rec_long(r, i);

	if (v < 1)
		reader_fail(r, "%s must be a positive integer, is %ld", what, v);
	return v;
}

static void
read_block(const struct reader *r)
{
	const struct record *rec = &r->rec;
	struct block *b;

	rec_need(r, 6);
	GROW(D.blocks, D.nblock);
	b = &D.blocks[D.nblock];
	b->id = positive(r, 1, "block ID");
	if (D.nblock && b->id <= D.blocks[D.nblock - 1].id)
		reader_fail(r, "block ID %ld does not increase (previous %ld)",
		    b->id, D.blocks[D.nblock - 1].id);
	b->page = positive(r, 3, "block PAGE");
	b->kind = kst_xstrdup(rec->field[2]);
	b->attrs = kst_xstrdup(rec->field[4]);
	b->len = rec->len[5];
	b->text = kst_xmalloc(b->len + 1);
	memcpy(b->text, rec->field[5], b->len + 1);
	b->tag0 = b->ntag = 0;
	D.nblock++;
}

static enum tagkind
tag_kind(const char *s)
{
	static const struct { const char *name; enum tagkind kind; } kinds[] = {
		{ "nootref", T_NOOTREF }, { "verwijzing", T_VERWIJZING },
		{ "nadruk", T_NADRUK }, { "noot", T_NOOT },
		{ "toezegging", T_TOEZEGGING }, { "nakoming", T_NAKOMING },
	};
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(s, kinds[i].name) == 0)
			return kinds[i].kind;
	return T_OTHER;
}

static void
read_tag(const struct reader *r)
{
	const struct record *rec = &r->rec;
	struct tag *t;
	long start, end;

	rec_need(r, 6);
	start = rec_long(r, 2);
	end = rec_long(r, 3);
	if (start < 0 || end < start)
		reader_fail(r, "tag range %ld..%ld is not a range", start, end);
	if (tag_kind(rec->field[4]) == T_OTHER)
		return;		/* sup and kinds we do not know: not ours */
	GROW(D.tags, D.ntag);
	t = &D.tags[D.ntag];
	t->blockid = positive(r, 1, "tag BLOCK");
	t->start = (size_t)start;
	t->end = (size_t)end;
	t->kind = tag_kind(rec->field[4]);
	t->kindname = kst_xstrdup(rec->field[4]);
	t->attrs = kst_xstrdup(rec->field[5]);
	t->rule = kst_xstrdup(rec->nfield > 6 ? rec->field[6] : "-");
	t->seq = D.ntag;
	D.ntag++;
}

static void
read_meta(const struct reader *r)
{
	struct meta *m;

	rec_need(r, 4);
	GROW(D.metas, D.nmeta);
	m = &D.metas[D.nmeta++];
	m->key = kst_xstrdup(r->rec.field[1]);
	m->attrs = kst_xstrdup(r->rec.field[2]);
	m->value = kst_xstrdup(r->rec.field[3]);
	m->used = 0;
}

static void
read_source(const struct reader *r)
{
	const char *path, *slash;

	rec_need(r, 5);
	if (D.have_source)
		return;
	D.src_bytes = rec_long(r, 1);
	D.src_pages = rec_long(r, 2);
	if (D.src_bytes < 0 || D.src_pages < 0)
		reader_fail(r, "source BYTES and PAGES must not be negative");
	if (!valid_sha256(r->rec.field[3]))
		reader_fail(r, "source SHA256 is not 64 lower-case hex digits");
	path = r->rec.field[4];
	slash = strrchr(path, '/');
	D.src_path = kst_xstrdup(slash && slash[1] ? slash + 1 : path);
	D.src_sha = kst_xstrdup(r->rec.field[3]);
	D.have_source = 1;
}

static void
read_warn(const struct reader *r)
{
	rec_need(r, 2);
	GROW(D.meldingen, D.nmelding);
	D.meldingen[D.nmelding].code = kst_xstrdup(r->rec.field[1]);
	D.meldingen[D.nmelding].text = kst_xstrdup(r->rec.nfield > 2 ?
	    r->rec.field[2] : "");
	D.nmelding++;
}

static void
read_stream(struct reader *r)
{
	while (reader_next(r)) {
		const struct record *rec = &r->rec;

		if (rec_is(rec, "block"))
			read_block(r);
		else if (rec_is(rec, "tag"))
			read_tag(r);
		else if (rec_is(rec, "meta"))
			read_meta(r);
		else if (rec_is(rec, "source"))
			read_source(r);
		else if (rec_is(rec, "warn"))
			read_warn(r);
	}
	if (!D.have_source)
		reader_fail(r, "no \"source\" record: cannot say what the XML "
		    "was made from");
}

/* ----------------------------------------------------- tag resolution */

static struct block *
find_block(long id, size_t *index)
{
	size_t lo = 0, hi = D.nblock;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (D.blocks[mid].id == id) {
			*index = mid;
			return &D.blocks[mid];
		}
		if (D.blocks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
mid_char(const struct block *b, size_t off)
{
	return off > 0 && off < b->len &&
	    ((unsigned char)b->text[off] & 0xC0) == 0x80;
}

/* Widens a range whose ends fall inside a UTF-8 sequence to whole
 * characters, so that a tag never splits one. */
static void
snap(const struct block *b, struct tag *t)
{
	while (mid_char(b, t->start))
		t->start--;
	while (mid_char(b, t->end))
		t->end++;
}

static int
rank(enum tagkind k)
{
	/* with equal ranges, a verwijzing holds a nadruk holds a nootref */
	switch (k) {
	case T_VERWIJZING: return 0;
	case T_NADRUK: return 1;
	case T_NOOTREF: return 2;
	default: return 3;
	}
}

static int
tag_cmp(const void *pa, const void *pb)
{
	const struct tag *a = pa, *b = pb;

	if (a->bi != b->bi)
		return a->bi < b->bi ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end > b->end ? -1 : 1;	/* outer first */
	if (rank(a->kind) != rank(b->kind))
		return rank(a->kind) - rank(b->kind);
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Drops tags that point nowhere (with a melding), sorts the rest by block
 * and position, and gives each block its run of tags. */
static void
free_tag(struct tag *t)
{
	free(t->kindname);
	free(t->attrs);
	free(t->rule);
}

static void
resolve_tags(void)
{
	size_t i, kept = 0;

	for (i = 0; i < D.ntag; i++) {
		struct tag *t = &D.tags[i];
		struct block *b = find_block(t->blockid, &t->bi);

		if (b == NULL) {
			melding("xml-tag", "%s tag on block %ld, which does not "
			    "exist: dropped", t->kindname, t->blockid);
			free_tag(t);
			continue;
		}
		if (t->end > b->len) {
			melding("xml-tag", "block %ld: %s tag %zu..%zu runs past "
			    "the text (%zu bytes): dropped", t->blockid,
			    t->kindname, t->start, t->end, b->len);
			free_tag(t);
			continue;
		}
		snap(b, t);
		D.tags[kept++] = *t;
	}
	D.ntag = kept;
	if (D.ntag)
		qsort(D.tags, D.ntag, sizeof D.tags[0], tag_cmp);
	for (i = 0; i < D.ntag; i++) {
		struct block *b = &D.blocks[D.tags[i].bi];

		if (b->ntag == 0)
			b->tag0 = i;
		b->ntag++;
	}
}

/* ------------------------------------------------------------ noten */

static int
is_kind(const struct block *b, const char *kind)
{
	return strcmp(b->kind, kind) == 0;
}

static size_t
hash_str(const char *s)
{
	size_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Footnote ids are looked up for every marker: a hash keeps a stream with
 * many thousands of notes linear. */
static size_t *
noot_slot(const char *id)
{
	size_t i = hash_str(id) & (D.hash_cap - 1);

	while (D.noot_hash[i] && strcmp(D.noten[D.noot_hash[i] - 1].id, id))
		i = (i + 1) & (D.hash_cap - 1);
	return &D.noot_hash[i];
}

static struct noot *
find_noot(const char *id)
{
	size_t *slot;

	if (D.hash_cap == 0)
		return NULL;
	slot = noot_slot(id);
	return *slot ? &D.noten[*slot - 1] : NULL;
}

static void
rehash(void)
{
	size_t i;

	free(D.noot_hash);
	D.hash_cap = D.hash_cap ? D.hash_cap * 2 : 64;
	D.noot_hash = kst_xmalloc(D.hash_cap * sizeof *D.noot_hash);
	memset(D.noot_hash, 0, D.hash_cap * sizeof *D.noot_hash);
	for (i = 0; i < D.nnoot; i++)
		*noot_slot(D.noten[i].id) = i + 1;
}

static struct noot *
new_noot(const char *id, const char *nr, const char *rule, long page)
{
	struct noot *n;

	GROW(D.noten, D.nnoot);
	n = &D.noten[D.nnoot++];
	n->id = kst_xstrdup(id);
	n->nr = nr ? kst_xstrdup(nr) : NULL;
	n->rule = kst_xstrdup(rule);
	n->page = page;
	n->seg = NULL;
	n->nseg = 0;
	if (2 * D.nnoot >= D.hash_cap)
		rehash();
	else
		*noot_slot(n->id) = D.nnoot;
	return n;
}

static void
add_segment(struct noot *n, size_t bi, size_t start, size_t end)
{
	GROW(n->seg, n->nseg);
	n->seg[n->nseg].bi = bi;
	n->seg[n->nseg].start = start;
	n->seg[n->nseg].end = end;
	n->nseg++;
}

static void
add_noot_tag(const struct block *b, size_t bi, const struct tag *t)
{
	struct buf id = BUF_INIT, nr = BUF_INIT;
	struct noot *n;
	int has_nr;

	if (!attr(t->attrs, "id", &id) || id.len == 0) {
		buf_clear(&id);
		buf_printf(&id, "blok-%ld-%zu", b->id, t->start);
		melding("xml-noot", "block %ld: noot tag without id, called %s",
		    b->id, id.s);
	}
	has_nr = attr(t->attrs, "nr", &nr);
	n = find_noot(id.s);
	if (n == NULL)
		n = new_noot(id.s, has_nr ? nr.s : NULL, t->rule, b->page);
	else if (n->nr == NULL && has_nr)
		n->nr = kst_xstrdup(nr.s);
	add_segment(n, bi, t->start, t->end);
	buf_free(&id);
	buf_free(&nr);
}

/* A footnote body no tagger claimed: keep it whole, its leading number as
 * nr, so that nothing printed is lost. */
static void
add_orphan(const struct block *b, size_t bi)
{
	struct buf id = BUF_INIT, nr = BUF_INIT;
	size_t digits = strspn(b->text, DIGITS), skip = digits;
	struct noot *n;

	buf_printf(&id, "blok-%ld", b->id);
	while (find_noot(id.s))
		buf_addc(&id, '_');
	if (digits)
		buf_add(&nr, b->text, digits);
	while (digits && skip < b->len && (b->text[skip] == ' ' ||
	    b->text[skip] == '\t'))
		skip++;
	n = new_noot(id.s, digits ? nr.s : NULL, "kst-xml:voetnoot-zonder-noot",
	    b->page);
	add_segment(n, bi, skip, b->len);
	melding("xml-noot", "block %ld (page %ld): footnote body without a noot "
	    "tag, kept as noot %s", b->id, b->page, id.s);
	buf_free(&id);
	buf_free(&nr);
}

static void
collect_noten(void)
{
	size_t bi, i;

	for (bi = 0; bi < D.nblock; bi++) {
		const struct block *b = &D.blocks[bi];
		int found = 0;

		for (i = b->tag0; i < b->tag0 + b->ntag; i++) {
			const struct tag *t = &D.tags[i];

			if (t->kind != T_NOOT)
				continue;
			if (!is_kind(b, "voetnoot")) {
				melding("xml-noot", "block %ld: noot tag on a %s "
				    "block, not a voetnoot: ignored", b->id, b->kind);
				continue;
			}
			add_noot_tag(b, bi, t);
			found = 1;
		}
		if (is_kind(b, "voetnoot") && !found)
			add_orphan(b, bi);
	}
}

/* ----------------------------------------------------- inline markup */

struct verwijzing_attr {
	const char *key;
	int (*valid)(const char *);
};

static const struct verwijzing_attr verwijzing_attrs[] = {
	{ "parlId", valid_parlid }, { "url", NULL }, { "celex", NULL },
	{ "eu", NULL }, { "handelingen", NULL }, { "ecli", NULL },
	{ "bwb", NULL }, { "stb", NULL }, { "stcrt", NULL }, { "trb", NULL },
	{ "kenmerk", NULL }, { "datum", valid_date },
};
#define NVATTR (sizeof verwijzing_attrs / sizeof verwijzing_attrs[0])

static int
known_vattr(const char *key, size_t n)
{
	size_t i;

	if (n == 4 && strncmp(key, "type", 4) == 0)
		return 1;
	for (i = 0; i < NVATTR; i++)
		if (strlen(verwijzing_attrs[i].key) == n &&
		    strncmp(key, verwijzing_attrs[i].key, n) == 0)
			return 1;
	return 0;
}

/* Unknown attribute keys on a verwijzing are left out of the XML; each is
 * reported once per document. */
static void
report_unknown_vattrs(const char *attrs)
{
	const char *p = attrs;
	size_t i, n;

	if (strcmp(attrs, "-") == 0)
		return;
	while (*p) {
		n = strcspn(p, "=&");
		if (n && !known_vattr(p, n)) {
			for (i = 0; i < D.nwarned; i++)
				if (strlen(D.warned_attrs[i]) == n &&
				    strncmp(D.warned_attrs[i], p, n) == 0)
					break;
			if (i == D.nwarned && D.nwarned < 32) {
				GROW(D.warned_attrs, D.nwarned);
				D.warned_attrs[D.nwarned] = kst_xmalloc(n + 1);
				memcpy(D.warned_attrs[D.nwarned], p, n);
				D.warned_attrs[D.nwarned++][n] = '\0';
				melding("xml-attr", "verwijzing attribute \"%s\" "
				    "is not in the schema: left out",
				    D.warned_attrs[D.nwarned - 1]);
			}
		}
		p += strcspn(p, "&");
		if (*p == '&')
			p++;
	}
}

static void
put_rule(struct buf *b, const char *rule)
{
	if (*rule && strcmp(rule, "-") != 0)
		put_attr(b, "regel", rule);
}

static void
open_verwijzing(struct buf *out, const struct block *b, const struct tag *t)
{
	struct buf v = BUF_INIT;
	size_t i;

	buf_adds(out, "<verwijzing");
	put_attr(out, "type", attr(t->attrs, "type", &v) ? v.s : "onbekend");
	for (i = 0; i < NVATTR; i++) {
		const struct verwijzing_attr *a = &verwijzing_attrs[i];

		if (!attr(t->attrs, a->key, &v))
			continue;
		if (a->valid && !a->valid(v.s)) {
			melding("xml-attr", "block %ld: verwijzing %s=\"%s\" is "
			    "not valid: left out", b->id, a->key, v.s);
			continue;
		}
		put_attr(out, a->key, v.s);
	}
	report_unknown_vattrs(t->attrs);
	put_rule(out, t->rule);
	buf_addc(out, '>');
	buf_free(&v);
}

/* Writes the start tag of t, or returns 0 when t cannot become an element
 * (its text then stays in the parent as plain text). */
static int
open_tag(struct buf *out, const struct block *b, const struct tag *t)
{
	struct buf v = BUF_INIT;
	int ok = 1;

	switch (t->kind) {
	case T_NOOTREF:
		if (!attr(t->attrs, "noot", &v) || find_noot(v.s) == NULL) {
			melding("xml-nootref", "block %ld (page %ld): marker "
			    "\"%.*s\" points to no footnote (noot=\"%s\"): kept "
			    "as text", b->id, b->page, (int)(t->end - t->start),
			    b->text + t->start, v.len ? v.s : "");
			ok = 0;
			break;
		}
		buf_adds(out, "<nootref");
		put_attr(out, "noot", v.s);
		put_rule(out, t->rule);
		buf_addc(out, '>');
		break;
	case T_NADRUK:
		if (!attr(t->attrs, "type", &v) || (strcmp(v.s, "vet") &&
		    strcmp(v.s, "cursief") && strcmp(v.s, "vetcursief") &&
		    strcmp(v.s, "onderstreept"))) {
			melding("xml-tag", "block %ld: nadruk without a known "
			    "type: kept as text", b->id);
			ok = 0;
			break;
		}
		buf_adds(out, "<nadruk");
		put_attr(out, "type", v.s);
		put_rule(out, t->rule);
		buf_addc(out, '>');
		break;
	case T_VERWIJZING:
		open_verwijzing(out, b, t);
		break;
	default:
		ok = 0;
	}
	buf_free(&v);
	return ok;
}

static int
is_inline(enum tagkind k)
{
	return k == T_NOOTREF || k == T_VERWIJZING || k == T_NADRUK;
}

/* Writes text[from..to) of block b with its inline tags as nested elements.
 * Tags are sorted by start, outer first; a tag that crosses the end of an
 * open one, or would sit inside a nootref (text only), is dropped. */
static void
render_range(struct buf *out, const struct block *b, size_t from, size_t to)
{
	const struct tag *stack[MAXDEPTH];
	size_t depth = 0, pos = from, i;

	for (i = b->tag0; i < b->tag0 + b->ntag; i++) {
		const struct tag *t = &D.tags[i];

		if (!is_inline(t->kind) || t->end <= from || t->start >= to)
			continue;
		if (t->start < from || t->end > to) {
			melding("xml-kruisend", "block %ld: %s tag %zu..%zu "
			    "crosses the footnote text %zu..%zu: dropped",
			    b->id, t->kindname, t->start, t->end, from, to);
			continue;
		}
		while (depth && stack[depth - 1]->end <= t->start) {
			const struct tag *top = stack[--depth];

			put_escaped(out, b->text + pos, top->end - pos, 0);
			buf_printf(out, "</%s>", top->kindname);
			pos = top->end;
		}
		if (depth && t->end > stack[depth - 1]->end) {
			melding("xml-kruisend", "block %ld (page %ld): %s tag "
			    "%zu..%zu crosses %s tag %zu..%zu: dropped", b->id,
			    b->page, t->kindname, t->start, t->end,
			    stack[depth - 1]->kindname, stack[depth - 1]->start,
			    stack[depth - 1]->end);
			continue;
		}
		if (depth && (stack[depth - 1]->kind == T_NOOTREF ||
		    depth == MAXDEPTH)) {
			melding("xml-kruisend", "block %ld: %s tag %zu..%zu "
			    "inside %s: dropped", b->id, t->kindname, t->start,
			    t->end, stack[depth - 1]->kindname);
			continue;
		}
		put_escaped(out, b->text + pos, t->start - pos, 0);
		pos = t->start;
		if (open_tag(out, b, t))
			stack[depth++] = t;
	}
	while (depth) {
		const struct tag *top = stack[--depth];

		put_escaped(out, b->text + pos, top->end - pos, 0);
		buf_printf(out, "</%s>", top->kindname);
		pos = top->end;
	}
	put_escaped(out, b->text + pos, to - pos, 0);
}

static void
repairs_in_block(const struct block *b)
{
	char where[64];

	snprintf(where, sizeof where, "block %ld (page %ld)", b->id, b->page);
	report_repairs(where);
}

/* ------------------------------------------------------------- inhoud */

static const char *
body_element(const struct block *b)
{
	static const char *kinds[] = { "aanhef", "al", "kop",
		"slotformulering", "ondertekening" };
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (is_kind(b, kinds[i]))
			return kinds[i];
	melding("xml-blok", "block %ld: unknown block kind \"%s\", written "
	    "as al", b->id, b->kind);
	return "al";
}

static int
in_body(const struct block *b)
{
	return !is_kind(b, "furniture") && !is_kind(b, "voetnoot");
}

static long
level_of(const struct block *b)
{
	struct buf v = BUF_INIT;
	long level = 1;

	if (attr(b->attrs, "level", &v)) {
		char *end;

		level = strtol(v.s, &end, 10);
		if (*end || end == v.s || level < 1 || level > 1000)
			level = 1;
	}
	buf_free(&v);
	return level;
}

static void
put_block(struct buf *out, const struct block *b, const char *element)
{
	struct buf v = BUF_INIT;

	buf_printf(out, "<%s", element);
	if (strcmp(element, "kop") == 0 && attr(b->attrs, "level", &v))
		buf_printf(out, " niveau=\"%ld\"", level_of(b));
	if (strcmp(element, "li") == 0 && attr(b->attrs, "marker", &v))
		put_attr(out, "nr", v.s);
	buf_printf(out, " pagina=\"%ld\">", b->page);
	render_range(out, b, 0, b->len);
	repairs_in_block(b);
	buf_free(&v);
}

/* Consecutive li blocks (furniture and footnotes between them do not
 * count) as one lijst; a deeper level opens a lijst inside the open li.
 * A nested lijst starts right after its li's text and ends right before
 * its </li>, so the pretty-printing adds no text to the li. Returns the
 * index of the first block after the list. */
static size_t
render_list(struct buf *out, size_t i)
{
	long levels[MAXDEPTH];
	size_t depth = 1;
	int first = 1;

	indent(out, 4);
	buf_adds(out, "<lijst>\n");
	levels[0] = level_of(&D.blocks[i]);
	for (; i < D.nblock; i++) {
		const struct block *b = &D.blocks[i];
		long level;

		if (!in_body(b))
			continue;
		if (!is_kind(b, "li"))
			break;
		level = level_of(b);
		if (first)
			first = 0;	/* nothing open yet */
		else if (level > levels[depth - 1] && depth < MAXDEPTH) {
			buf_adds(out, "<lijst>\n");
			levels[depth++] = level;
		} else {
			buf_adds(out, "</li>\n");
			while (depth > 1 && levels[depth - 1] > level) {
				indent(out, 4 * (int)depth);
				buf_adds(out, "</lijst></li>\n");
				depth--;
			}
		}
		indent(out, 4 * (int)depth + 2);
		put_block(out, b, "li");
	}
	buf_adds(out, "</li>\n");
	while (depth > 1) {
		indent(out, 4 * (int)depth);
		buf_adds(out, "</lijst></li>\n");
		depth--;
	}
	indent(out, 4);
	buf_adds(out, "</lijst>\n");
	return i;
}

static void
render_inhoud(struct buf *out)
{
	size_t i = 0;

	buf_adds(out, "  <inhoud>\n");
	while (i < D.nblock) {
		const struct block *b = &D.blocks[i];
		const char *element;

		if (!in_body(b)) {
			i++;
			continue;
		}
		if (is_kind(b, "li")) {
			i = render_list(out, i);
			continue;
		}
		element = body_element(b);
		indent(out, 4);
		put_block(out, b, element);
		buf_printf(out, "</%s>\n", element);
		i++;
	}
	buf_adds(out, "  </inhoud>\n");
}

static void
render_noten(struct buf *out)
{
	size_t i, s, written;

	if (D.nnoot == 0)
		return;
	buf_adds(out, "  <noten>\n");
	for (i = 0; i < D.nnoot; i++) {
		const struct noot *n = &D.noten[i];

		buf_adds(out, "    <noot");
		put_attr(out, "id", n->id);
		if (n->nr)
			put_attr(out, "nr", n->nr);
		buf_printf(out, " pagina=\"%ld\"", n->page);
		put_rule(out, n->rule);
		buf_addc(out, '>');
		for (s = 0, written = 0; s < n->nseg; s++) {
			const struct block *b = &D.blocks[n->seg[s].bi];

			/* an empty part (a number printed as a block of its
			 * own) adds no separator */
			if (n->seg[s].start == n->seg[s].end)
				continue;
			if (written++)
				buf_addc(out, ' ');
			render_range(out, b, n->seg[s].start, n->seg[s].end);
			repairs_in_block(b);
		}
		buf_adds(out, "</noot>\n");
	}
	buf_adds(out, "  </noten>\n");
}

static void
put_child(struct buf *out, int ind, const char *name, const char *s, size_t n)
{
	indent(out, ind);
	buf_printf(out, "<%s>", name);
	put_escaped(out, s, n, 0);
	buf_printf(out, "</%s>\n", name);
}

/* The text of a commitment, without the footnote markers inside it:
 * "20201 heb ik" reads "2020 heb ik". */
static void
put_tekst(struct buf *out, const struct block *b, const struct tag *t)
{
	size_t pos = t->start, i;

	indent(out, 6);
	buf_adds(out, "<tekst>");
	for (i = b->tag0; i < b->tag0 + b->ntag; i++) {
		const struct tag *m = &D.tags[i];

		if (m->kind != T_NOOTREF || m->start < pos || m->end > t->end)
			continue;
		put_escaped(out, b->text + pos, m->start - pos, 0);
		pos = m->end;
	}
	put_escaped(out, b->text + pos, t->end - pos, 0);
	buf_adds(out, "</tekst>\n");
}

static void
render_toezeggingen(struct buf *out)
{
	struct buf v = BUF_INIT;
	size_t i;
	int any = 0;

	for (i = 0; i < D.ntag; i++) {
		const struct tag *t = &D.tags[i];
		const struct block *b = &D.blocks[t->bi];

		if (t->kind != T_TOEZEGGING && t->kind != T_NAKOMING)
			continue;
		if (!any++)
			buf_adds(out, "  <toezeggingen>\n");
		buf_printf(out, "    <%s pagina=\"%ld\"", t->kindname, b->page);
		put_rule(out, t->rule);
		buf_adds(out, ">\n");
		put_tekst(out, b, t);
		if (attr(t->attrs, "actor", &v))
			put_child(out, 6, "actor", v.s, v.len);
		if (attr(t->attrs, "termijn", &v))
			put_child(out, 6, "termijn", v.s, v.len);
		buf_printf(out, "    </%s>\n", t->kindname);
		repairs_in_block(b);
	}
	if (any)
		buf_adds(out, "  </toezeggingen>\n");
	buf_free(&v);
}

/* --------------------------------------------------------------- meta */

/* The first unused meta record with this key; later repeats of a key that
 * may occur once are reported by report_unused_meta. */
static struct meta *
take_meta(const char *key)
{
	size_t i;

	for (i = 0; i < D.nmeta; i++)
		if (!D.metas[i].used && strcmp(D.metas[i].key, key) == 0) {
			D.metas[i].used = 1;
			return &D.metas[i];
		}
	return NULL;
}

static void
reject_meta(const struct meta *m, const char *why)
{
	melding("xml-meta", "meta %s \"%s\": %s: left out", m->key, m->value, why);
}

static void
put_meta_text(struct buf *out, int ind, const char *name, const char *value)
{
	char where[64];

	indent(out, ind);
	buf_printf(out, "<%s>", name);
	put_text(out, value);
	buf_printf(out, "</%s>\n", name);
	snprintf(where, sizeof where, "meta %s", name);
	report_repairs(where);
}

/* A single-valued field whose value must pass check (NULL: any text). */
static void
meta_simple(struct buf *out, int ind, const char *key, int (*check)(const char *))
{
	struct meta *m = take_meta(key);

	if (m == NULL)
		return;
	if (check && !check(m->value)) {
		reject_meta(m, "does not fit the schema");
		return;
	}
	put_meta_text(out, ind, key, m->value);
}

static void
meta_dossier(struct buf *out)
{
	struct meta *m = take_meta("dossier");
	struct buf v = BUF_INIT;

	if (m == NULL)
		return;
	if (!all_of(m->value, DIGITS)) {
		reject_meta(m, "a dossier number is digits only");
		return;
	}
	buf_adds(out, "      <dossier");
	put_attr(out, "nummer", m->value);
	if (attr(m->attrs, "toevoeging", &v)) {
		if (all_of(v.s, ALNUM))
			put_attr(out, "toevoeging", v.s);
		else
			melding("xml-meta", "meta dossier toevoeging \"%s\" is "
			    "not letters and digits: left out", v.s);
	}
	buf_adds(out, "/>\n");
	buf_free(&v);
}

static void
meta_identificatie(struct buf *out)
{
	struct buf inner = BUF_INIT;

	meta_simple(&inner, 6, "parlId", valid_parlid);
	meta_dossier(&inner);
	meta_simple(&inner, 6, "dossiertitel", NULL);
	meta_simple(&inner, 6, "ondernummer", valid_ondernummer);
	meta_simple(&inner, 6, "vergaderjaar", valid_vergaderjaar);
	if (inner.len) {
		buf_adds(out, "    <identificatie>\n");
		buf_add(out, inner.s, inner.len);
		buf_adds(out, "    </identificatie>\n");
	}
	buf_free(&inner);
}

static void
meta_dagtekening(struct buf *out)
{
	struct meta *m = take_meta("dagtekening");
	struct buf v = BUF_INIT;

	if (m == NULL)
		return;
	buf_adds(out, "    <dagtekening");
	if (attr(m->attrs, "datum", &v)) {
		if (valid_date(v.s))
			put_attr(out, "datum", v.s);
		else
			melding("xml-meta", "meta dagtekening datum \"%s\" is "
			    "not an ISO date: left out", v.s);
	}
	buf_addc(out, '>');
	put_text(out, m->value);
	buf_adds(out, "</dagtekening>\n");
	report_repairs("meta dagtekening");
	buf_free(&v);
}

static void
meta_ondertekenaars(struct buf *out)
{
	struct buf v = BUF_INIT;
	size_t i;
	int any = 0;

	for (i = 0; i < D.nmeta; i++) {
		struct meta *m = &D.metas[i];

		if (strcmp(m->key, "ondertekenaar") != 0)
			continue;
		m->used = 1;
		if (!any++)
			buf_adds(out, "    <ondertekenaars>\n");
		buf_adds(out, "      <ondertekenaar>\n");
		if (attr(m->attrs, "functie", &v))
			put_meta_text(out, 8, "functie", v.s);
		put_meta_text(out, 8, "naam", m->value);
		buf_adds(out, "      </ondertekenaar>\n");
	}
	if (any)
		buf_adds(out, "    </ondertekenaars>\n");
	buf_free(&v);
}

static void
meta_medenamens(struct buf *out)
{
	size_t i;

	for (i = 0; i < D.nmeta; i++)
		if (strcmp(D.metas[i].key, "medeNamens") == 0) {
			D.metas[i].used = 1;
			put_meta_text(out, 4, "medeNamens", D.metas[i].value);
		}
}

static void
report_unused_meta(void)
{
	static const char *known[] = { "parlId", "dossier", "dossiertitel",
		"ondernummer", "vergaderjaar", "documentsoort", "titel",
		"dagtekening", "geadresseerde", "onderwerp", "kenmerk" };
	size_t i, k;

	for (i = 0; i < D.nmeta; i++) {
		if (D.metas[i].used)
			continue;
		for (k = 0; k < sizeof known / sizeof known[0]; k++)
			if (strcmp(D.metas[i].key, known[k]) == 0)
				reject_meta(&D.metas[i], "given more than once, "
				    "the first one is kept");
	}
}

static void
render_meta(struct buf *out)
{
	static const char *texts[] = { "documentsoort", "titel" };
	static const char *texts2[] = { "geadresseerde", "onderwerp", "kenmerk" };
	size_t i;

	buf_adds(out, "  <meta>\n");
	meta_identificatie(out);
	for (i = 0; i < 2; i++)
		meta_simple(out, 4, texts[i], NULL);
	meta_dagtekening(out);
	for (i = 0; i < 3; i++)
		meta_simple(out, 4, texts2[i], NULL);
	meta_ondertekenaars(out);
	meta_medenamens(out);
	report_unused_meta();
	buf_adds(out, "    <bron");
	put_attr(out, "bestand", D.src_path);
	put_attr(out, "sha256", D.src_sha);
	buf_printf(out, " bytes=\"%ld\" paginas=\"%ld\"/>\n", D.src_bytes,
	    D.src_pages);
	report_repairs("bron bestand");
}

static void
render_conversie(struct buf *out)
{
	size_t i;

	buf_adds(out, "    <conversie versie=\"" KST_VERSION "\"");
	if (D.nmelding == 0) {
		buf_adds(out, "/>\n  </meta>\n");
		return;
	}
	buf_adds(out, ">\n");
	for (i = 0; i < D.nmelding; i++) {
		buf_adds(out, "      <melding");
		put_attr(out, "code", D.meldingen[i].code);
		buf_addc(out, '>');
		put_text(out, D.meldingen[i].text);
		buf_adds(out, "</melding>\n");
	}
	buf_adds(out, "    </conversie>\n  </meta>\n");
}

/* ------------------------------------------------------------- main */

static void
free_doc(void)
{
	size_t i;

	for (i = 0; i < D.nblock; i++) {
		free(D.blocks[i].kind);
		free(D.blocks[i].attrs);
		free(D.blocks[i].text);
	}
	for (i = 0; i < D.ntag; i++)
		free_tag(&D.tags[i]);
	for (i = 0; i < D.nmeta; i++) {
		free(D.metas[i].key);
		free(D.metas[i].attrs);
		free(D.metas[i].value);
	}
	for (i = 0; i < D.nmelding; i++) {
		free(D.meldingen[i].code);
		free(D.meldingen[i].text);
	}
	for (i = 0; i < D.nnoot; i++) {
		free(D.noten[i].id);
		free(D.noten[i].nr);
		free(D.noten[i].rule);
		free(D.noten[i].seg);
	}
	for (i = 0; i < D.nwarned; i++)
		free(D.warned_attrs[i]);
	free(D.blocks);
	free(D.tags);
	free(D.metas);
	free(D.meldingen);
	free(D.noten);
	free(D.noot_hash);
	free(D.warned_attrs);
	free(D.src_path);
	free(D.src_sha);
}

static void
convert(struct reader *r)
{
	struct buf body = BUF_INIT, out = BUF_INIT;

	read_stream(r);
	resolve_tags();
	collect_noten();
	render_inhoud(&body);
	render_noten(&body);
	render_toezeggingen(&body);
	buf_adds(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<kamerstuk xmlns=\"urn:kst2xml:kamerstuk:1\">\n");
	render_meta(&out);
	render_conversie(&out);
	buf_add(&out, body.s, body.len);
	buf_adds(&out, "</kamerstuk>\n");
	if (fwrite(out.s, 1, out.len, stdout) != out.len)
		kst_die(KST_EOUTPUT, "standard output: write failed");
	buf_free(&body);
	buf_free(&out);
}

int
main(int argc, char **argv)
{
	struct reader r;
	const char *name = "-";
	FILE *fp = stdin;

	kst_setprog(argv[0]);
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return KST_OK;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", kst_progname, KST_VERSION);
		return KST_OK;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1] != '\0')) {
		usage(stderr);
		return KST_EUSAGE;
	}
	if (argc == 2 && strcmp(argv[1], "-") != 0) {
		name = argv[1];
		fp = fopen(name, "r");
		if (fp == NULL)
			kst_die(KST_ENOFILE, "%s: cannot open: %s", name,
			    strerror(errno));
	}
	reader_init(&r, fp, name);
	convert(&r);
	reader_free(&r);
	free_doc();
	if (fp != stdin)
		fclose(fp);
	kst_close_stdout();
	return KST_OK;
}
