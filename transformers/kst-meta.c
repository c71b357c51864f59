/* kst-meta - fills the document's metadata from what the print says.
 *
 * Reads the stream after kst-layout, passes every record on unchanged, and
 * adds "meta KEY ATTRS VALUE" records just before the first block. The
 * patterns live in rule files (transformers/rules/meta.rules, docs/rules.md);
 * this program only decides where to look and which match wins. */
#include "kst.h"
#include "rules.h"
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The keys of docs/stream.md in output order; multi keys repeat. */
static const struct {
	const char *key;
	int multi;
} known[] = {
	{ "parlId", 0 }, { "dossier", 0 }, { "dossiertitel", 0 },
	{ "ondernummer", 0 }, { "vergaderjaar", 0 }, { "documentsoort", 0 },
	{ "titel", 0 }, { "dagtekening", 0 }, { "geadresseerde", 0 },
	{ "onderwerp", 0 }, { "kenmerk", 0 }, { "ondertekenaar", 1 },
	{ "medeNamens", 1 },
};
#define NKNOWN (sizeof known / sizeof known[0])

struct block {
	char *kind;
	char *why;
	long page;
	char *text;
};

struct view {
	char *scope;		/* "in|pages" as written in the rule */
	struct buf text;
	struct need_text need;	/* text for need words, made when first asked */
	int lowered;
};

struct result {
	char *key;
	struct buf attrs;
	char *value;
};

struct doc {
	struct block *block;
	size_t nblock;
	struct view *view;
	size_t nview;
	struct result *res;
	size_t nres;
	char **given;		/* meta keys that arrived from upstream */
	size_t ngiven;
	struct buf warns;	/* warn records, already serialised */
};

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: kst-meta [-r RULES]... [FILE|-]\n"
	    "Adds meta records (parlId, dossier, dagtekening, ondertekenaar, ...)\n"
	    "to a kst stream after kst-layout. -r adds a rule file, tried before\n"
	    "the built-in meta.rules (see kst-meta(1), docs/rules.md).\n");
	exit(status);
}

static void
add_block(struct doc *d, const struct reader *r)
{
	struct buf why = BUF_INIT;
	struct block *b;

	rec_need(r, 6);
	d->block = kst_xrealloc(d->block, (d->nblock + 1) * sizeof(*d->block));
	b = &d->block[d->nblock++];
	b->kind = kst_xstrdup(r->rec.field[2]);
	b->page = rec_long(r, 3);
	attr_get(r->rec.field[4], "why", &why);
	b->why = buf_detach(&why);
	if (b->why == NULL)
		b->why = kst_xstrdup("");
	/* A text with NUL would end early; record_parse already refuses NUL. */
	b->text = kst_xstrdup(r->rec.field[5]);
}

static void
add_given(struct doc *d, const struct reader *r)
{
	rec_need(r, 4);
	d->given = kst_xrealloc(d->given, (d->ngiven + 1) * sizeof(*d->given));
	d->given[d->ngiven++] = kst_xstrdup(r->rec.field[1]);
}

/* One selector of an "in" list: KIND, KIND:WHY or "*". */
static int
selector_hits(const char *sel, size_t n, const struct block *b)
{
	const char *colon = memchr(sel, ':', n);
	size_t klen = colon ? (size_t)(colon - sel) : n;

	if (n == 1 && *sel == '*')
		return 1;
	if (strlen(b->kind) != klen || strncmp(b->kind, sel, klen) != 0)
		return 0;
	if (colon == NULL)
		return 1;
	return strlen(b->why) == n - klen - 1 &&
	    strncmp(b->why, colon + 1, n - klen - 1) == 0;
}

/* Whether block b is in scope "sel sel !sel ...": any positive selector
 * (all blocks when there is none) and no negative one. */
static int
in_scope(const char *scope, const struct block *b)
{
	const char *s = scope;
	int positive = 0, hit = 0;

	while (*s) {
		size_t n;
		int neg;

		s += strspn(s, " \t");
		n = strcspn(s, " \t");
		if (n == 0)
			break;
		neg = *s == '!';
		if (neg && selector_hits(s + 1, n - 1, b))
			return 0;
		if (!neg) {
			positive = 1;
			hit |= selector_hits(s, n, b);
		}
		s += n;
	}
	return !positive || hit;
}

/* The text a rule runs over: its blocks' texts, one after another, each
 * ended by a newline, so that (?m)^ and $ see block boundaries. */
static struct view *
get_view(struct doc *d, const struct rule *r)
{
	const struct rule_attr *in = rule_attr(r, "in"), *pg = rule_attr(r, "pages");
	const char *scope = in ? in->text : "";
	long maxpage = pg ? atol(pg->text) : 0;
	struct buf key = BUF_INIT;
	struct view *v;
	size_t i;

	buf_printf(&key, "%s|%ld", scope, maxpage);
	for (i = 0; i < d->nview; i++)
		if (strcmp(d->view[i].scope, key.s) == 0) {
			buf_free(&key);
			return &d->view[i];
		}
	d->view = kst_xrealloc(d->view, (d->nview + 1) * sizeof(*d->view));
	v = &d->view[d->nview++];
	v->scope = buf_detach(&key);
	memset(&v->text, 0, sizeof(v->text));
	memset(&v->need, 0, sizeof(v->need));
	v->lowered = 0;
	for (i = 0; i < d->nblock; i++) {
		const struct block *b = &d->block[i];

		if (maxpage > 0 && b->page > maxpage)
			continue;
		if (!in_scope(scope, b))
			continue;
		buf_adds(&v->text, b->text);
		buf_addc(&v->text, '\n');
	}
	utf8_repair(&v->text);	/* the stream is untrusted; PCRE2 wants UTF-8 */
	return v;
}

static int
is_multi(const char *key)
{
	size_t i;

	for (i = 0; i < NKNOWN; i++)
		if (strcmp(known[i].key, key) == 0)
			return known[i].multi;
	return 0;
}

static int
is_given(const struct doc *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->ngiven; i++)
		if (strcmp(d->given[i], key) == 0)
			return 1;
	return 0;
}

static int
special_key(const char *key)
{
	return strcmp(key, "value") == 0 || strcmp(key, "in") == 0 ||
	    strcmp(key, "pages") == 0 || strcmp(key, "need") == 0;
}

static int
duplicate(const struct doc *d, const char *key, const char *value,
    const struct buf *attrs)
{
	size_t i;

	for (i = 0; i < d->nres; i++)
		if (strcmp(d->res[i].key, key) == 0 &&
		    strcmp(d->res[i].value, value) == 0 &&
		    strcmp(buf_str(&d->res[i].attrs), buf_str(attrs)) == 0)
			return 1;
	return 0;
}

static void
add_result(struct doc *d, const char *key, const char *value, struct buf *attrs)
{
	struct result *res;

	d->res = kst_xrealloc(d->res, (d->nres + 1) * sizeof(*d->res));
	res = &d->res[d->nres++];
	res->key = kst_xstrdup(key);
	res->value = kst_xstrdup(value);
	res->attrs = *attrs;
	memset(attrs, 0, sizeof(*attrs));
}

/* Expands the current match of r into a result; 0 when a template rejected
 * it or the value came out empty. */
static int
take_match(struct doc *d, struct ruleset *rs, const struct rule *r,
    const char *view, size_t start, size_t end)
{
	struct buf value = BUF_INIT, attrs = BUF_INIT, one = BUF_INIT;
	const struct rule_attr *va = rule_attr(r, "value");
	size_t i;
	int ok = 0;

	if (va ? rule_expand(rs, va, &value) < 0 : 0)
		goto out;
	if (va == NULL)
		buf_add(&value, view + start, end - start);
	if (value.len == 0)
		goto out;
	for (i = 0; i < r->nattr; i++) {
		if (special_key(r->attr[i].key))
			continue;
		buf_clear(&one);
		if (rule_expand(rs, &r->attr[i], &one) < 0)
			goto out;
		if (one.len)
			attr_add(&attrs, r->attr[i].key, one.s);
	}
	if (!duplicate(d, r->kind, value.s, &attrs)) {
		struct buf who = BUF_INIT;

		buf_printf(&who, "meta:%s", r->name);
		attr_add(&attrs, "rule", who.s);
		buf_free(&who);
		add_result(d, r->kind, value.s, &attrs);
	}
	ok = 1;
out:
	buf_free(&value);
	buf_free(&attrs);
	buf_free(&one);
	return ok;
}

static void
warn_limit(struct doc *d, const struct rule *r)
{
	buf_printf(&d->warns, "warn\tmeta-rule-limit\trule %s (%s:%lu) gave up: "
	    "the pattern backtracks too much on this document\n",
	    r->name, r->file, r->line);
}

/* Runs one rule; returns how many results it gave. A rule none of whose
 * need words (docs/rules.md) occur in its view cannot match and is not run:
 * most rules scan the whole first page or document for a label that is not
 * there. */
static int
run_rule(struct doc *d, struct ruleset *rs, struct rule *r, int multi)
{
	struct view *v = get_view(d, r);
	const struct buf *view = &v->text;
	size_t off = 0, start, end;
	int rc, found = 0;

	if (r->need && !v->lowered) {
		rule_need_text(view->s ? view->s : "", view->len, &v->need);
		v->lowered = 1;
	}
	if (r->need && !rule_may_match(r, &v->need))
		return 0;
	while ((rc = rule_next(rs, r, buf_str(view), view->len, &off,
	    &start, &end)) == 1) {
		found += take_match(d, rs, r, buf_str(view), start, end);
		if (found && !multi)
			break;
	}
	if (rc < 0)
		warn_limit(d, r);
	return found;
}

/* First rule of this kind that gives anything wins. */
static void
fill_key(struct doc *d, struct ruleset *rs, const char *key)
{
	size_t i;

	if (is_given(d, key))
		return;
	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->rule[i].kind, key) == 0 &&
		    run_rule(d, rs, &rs->rule[i], is_multi(key)) > 0)
			return;
}

static const struct result *
find_result(const struct doc *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->nres; i++)
		if (strcmp(d->res[i].key, key) == 0)
			return &d->res[i];
	return NULL;
}

/* No printed parlId (a fixture, a damaged footer): a Kamerstuk's is
 * kst-DOSSIER[-TOEVOEGING]-NR. */
static void
build_parlid(struct doc *d)
{
	const struct result *dos = find_result(d, "dossier");
	const struct result *nr = find_result(d, "ondernummer");
	struct buf id = BUF_INIT, toev = BUF_INIT, attrs = BUF_INIT;

	if (is_given(d, "parlId") || find_result(d, "parlId") || !dos || !nr)
		return;
	buf_printf(&id, "kst-%s", dos->value);
	if (attr_get(buf_str(&dos->attrs), "toevoeging", &toev))
		buf_printf(&id, "-%s", toev.s);
	buf_printf(&id, "-%s", nr->value);
	attr_add(&attrs, "rule", "meta:built-from-dossier-and-nr");
	add_result(d, "parlId", id.s, &attrs);
	buf_free(&id);
	buf_free(&toev);
}

/* Day of the week, 0 = Sunday (Sakamoto's method). */
static int
weekday(int y, int m, int day)
{
	static const int t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	if (m < 3)
		y--;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + day) % 7;
}

/* No "Vergaderjaar" printed on a Kamerstuk (the Kamer's own motion print): the session
 * year follows from the date, as a session opens on Prinsjesdag, the third
 * Tuesday of September. */
static void
derive_vergaderjaar(struct doc *d)
{
	const struct result *dag = find_result(d, "dagtekening");
	struct buf iso = BUF_INIT, vj = BUF_INIT, attrs = BUF_INIT;
	int y, m, day, first, prinsjesdag;

	if (is_given(d, "vergaderjaar") || find_result(d, "vergaderjaar") || !dag)
		return;
	if (!find_result(d, "dossier") && !is_given(d, "dossier"))
		return;	/* not a Kamerstuk: a ministry letter has no session year */
	if (!attr_get(buf_str(&dag->attrs), "datum", &iso) ||
	    sscanf(iso.s, "%4d-%2d-%2d", &y, &m, &day) != 3 || y < 1815 ||
	    y > 9998 || m < 1 || m > 12) {
		buf_free(&iso);
		return;
	}
	first = weekday(y, 9, 1);
	prinsjesdag = 1 + (2 - first + 7) % 7 + 14;
	if (m > 9 || (m == 9 && day >= prinsjesdag))
		buf_printf(&vj, "%d-%d", y, y + 1);
	else
		buf_printf(&vj, "%d-%d", y - 1, y);
	attr_add(&attrs, "rule", "meta:vergaderjaar-from-dagtekening");
	add_result(d, "vergaderjaar", vj.s, &attrs);
	buf_free(&iso);
	buf_free(&vj);
}

static void
collect(struct doc *d, struct ruleset *rs)
{
	size_t i, j;

	for (i = 0; i < NKNOWN; i++)
		fill_key(d, rs, known[i].key);
	for (i = 0; i < rs->n; i++) {	/* kinds only a user's rules know */
		int seen = is_multi(rs->rule[i].kind);

		for (j = 0; j < NKNOWN && !seen; j++)
			seen = strcmp(known[j].key, rs->rule[i].kind) == 0;
		for (j = 0; j < i && !seen; j++)
			seen = strcmp(rs->rule[j].kind, rs->rule[i].kind) == 0;
		if (!seen)
			fill_key(d, rs, rs->rule[i].kind);
	}
	build_parlid(d);
	derive_vergaderjaar(d);
}

static void
write_key(FILE *fp, const struct doc *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->nres; i++) {
		if (strcmp(d->res[i].key, key) != 0)
			continue;
		rec_begin(fp, "meta");
		rec_field(fp, key);
		rec_field(fp, attr_field(&d->res[i].attrs));
		rec_field(fp, d->res[i].value);
		rec_end(fp);
	}
}

static void
write_meta(FILE *fp, const struct doc *d)
{
	size_t i, j;

	for (i = 0; i < NKNOWN; i++)
		write_key(fp, d, known[i].key);
	for (i = 0; i < d->nres; i++) {
		int done = 0;

		for (j = 0; j < NKNOWN && !done; j++)
			done = strcmp(known[j].key, d->res[i].key) == 0;
		for (j = 0; j < i && !done; j++)
			done = strcmp(d->res[j].key, d->res[i].key) == 0;
		if (!done)
			write_key(fp, d, d->res[i].key);
	}
	fputs(buf_str(&d->warns), fp);
}

static void
free_doc(struct doc *d)
{
	size_t i;

	for (i = 0; i < d->nblock; i++) {
		free(d->block[i].kind);
		free(d->block[i].why);
		free(d->block[i].text);
	}
	for (i = 0; i < d->nview; i++) {
		free(d->view[i].scope);
		buf_free(&d->view[i].text);
		need_text_free(&d->view[i].need);
	}
	for (i = 0; i < d->nres; i++) {
		free(d->res[i].key);
		free(d->res[i].value);
		buf_free(&d->res[i].attrs);
	}
	for (i = 0; i < d->ngiven; i++)
		free(d->given[i]);
	free(d->block);
	free(d->view);
	free(d->res);
	free(d->given);
	buf_free(&d->warns);
}

/* Reads the whole stream: the records before the first block go to head,
 * the rest to tail; meta records are written between the two. */
static void
read_stream(struct reader *r, struct doc *d, FILE *head, FILE *tail)
{
	FILE *out = head;

	while (reader_next(r)) {
		if (rec_is(&r->rec, "block")) {
			add_block(d, r);
			out = tail;
		} else if (rec_is(&r->rec, "meta"))
			add_given(d, r);
		rec_write(out, &r->rec);
	}
}

int
main(int argc, char **argv)
{
	const char *name;
	char *headbuf = NULL, *tailbuf = NULL;
	size_t headlen = 0, taillen = 0;
	struct ruleset rs;
	struct reader r;
	struct doc d;
	FILE *in, *head, *tail;

	kst_setprog(argv[0]);
	in = rules_stage_open(argc, argv, "kst-meta", "meta.rules", usage, &rs,
	    &name);
	head = open_memstream(&headbuf, &headlen);
	tail = open_memstream(&tailbuf, &taillen);
	if (head == NULL || tail == NULL)
		kst_die(KST_ELIMIT, "out of memory");
	memset(&d, 0, sizeof(d));
	reader_init(&r, in, name);
	stream_header(head);
	read_stream(&r, &d, head, tail);
	collect(&d, &rs);
	write_meta(head, &d);
	if (fclose(head) != 0 || fclose(tail) != 0)
		kst_die(KST_ELIMIT, "out of memory");
	fwrite(headbuf, 1, headlen, stdout);
	fwrite(tailbuf, 1, taillen, stdout);
	kst_close_stdout();

	free(headbuf);
	free(tailbuf);
	free_doc(&d);
	reader_free(&r);
	rules_free(&rs);
	if (in != stdin)
		fclose(in);
	return KST_OK;
}
