/* kst-commit - tags the sentences in which the government commits itself.
 *
 * Reads the stream after kst-meta/kst-notes, passes every record on
 * unchanged, and adds after each body block (al, li)
 *
 *	tag BLOCK START END toezegging|nakoming ATTRS commit:RULE
 *
 * spanning one whole sentence: a new promise to the Kamer (toezegging) or
 * the fulfilment of an earlier one (nakoming). This program only splits
 * sentences and decides which rule wins; every cue, deadline and veto is a
 * pattern in transformers/rules/commitments.rules (docs/rules.md). */
#include "kst.h"
#include "rules.h"
#include "stream.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


struct span {
	size_t start, end;
};

/* The body block being read: its tags follow it, so it is judged when the
 * next record that is not one of its tags arrives. */
struct pending {
	int active;
	char *id;
	char *text;
	size_t len;
	struct span *ref;	/* nootref markers, left out of what rules see */
	size_t nref;
};

struct ctx {
	struct ruleset rs;
	char *functie;		/* of the first signatory: who "ik" is */
	int nodoc;		/* a geen-soort rule matched the documentsoort */
	int nosection;		/* a geen-kop rule matched the last heading */
	struct pending blk;
	FILE *out;
	struct buf vervolg;	/* the sentence after the one being judged */
	struct need_text need;	/* the sentence judged, for need words */
	struct {		/* the untagged last sentence of the previous body
				 * block: its next sentence starts the next block */
		char *id;
		size_t start, end;
		struct buf clean;
	} carry;
	const struct rule **gaveup;	/* rules that hit the match limit */
	size_t ngaveup;
	struct rule **geen, **cue;	/* the vetoes and the cues (toezegging,
					 * nakoming), in file order: sorted
					 * out once, not per sentence */
	size_t ngeen, ncue;
};

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: kst-commit [-r RULES]... [FILE|-]\n"
	    "Adds toezegging/nakoming tags (commitments and their fulfilment)\n"
	    "to a kst stream. -r adds a rule file, tried before the built-in\n"
	    "commitments.rules (see kst-commit(1), docs/rules.md).\n");
	exit(status);
}

/* ---------------------------------------------------------------- sentences */

/* Words that end in a full stop without ending a sentence. */
static const char *abbrev[] = {
	"nr", "nrs", "art", "artt", "o.a", "bijv", "e.d", "dhr", "mw", "mevr",
	"jl", "blz", "p", "pp", "ca", "incl", "excl", "resp", "e.a", "vs",
	"prof", "dr", "mr", "ir", "drs", "ing", "stb", "stcrt", "zgn", "evt",
	"vgl", "et", "et.al", "a.s", "d.d", "t.a.v", "i.v.m",
	"m.b.t", "n.a.v", "i.p.v", "c.q", "d.w.z", "z.s.m", "m.i.v", "o.b.v",
	"mln", "mld", "mrd", "enz", "jan", "feb", "mrt", "apr", "jun", "jul",
	"aug", "sep", "sept", "okt", "nov", "dec", "min", "kamerst", "hand",
	"bijl", "hfdst", "i.c", "m.n", "t.z.t", "z.g", "nl", NULL
};

static int
is_letter_byte(unsigned char c)
{
	return isalpha(c) || c >= 0x80;
}

/* Whether the word before the full stop at text[dot] is an abbreviation or
 * an initial ("P. Blokhuis", "I.K. van Engelshoven"). */
static int
abbreviation_before(const char *text, size_t dot)
{
	size_t i = dot, n;
	char word[16];
	int k;

	while (i > 0 && (is_letter_byte((unsigned char)text[i - 1]) ||
	    text[i - 1] == '.'))
		i--;
	n = dot - i;
	if (n == 0)
		return 0;
	if (n == 1 && isupper((unsigned char)text[i]))
		return 1;	/* an initial */
	if (n >= sizeof word)
		return 0;
	memcpy(word, text + i, n);
	word[n] = '\0';
	for (k = 0; word[k]; k++)
		word[k] = (char)tolower((unsigned char)word[k]);
	for (k = 0; abbrev[k]; k++)
		if (strcmp(word, abbrev[k]) == 0)
			return 1;
	/* "I.K", "A.B.C": initials joined by stops */
	for (k = 0; k + 1 < (int)n; k += 2)
		if (!isupper((unsigned char)text[i + k]) || text[i + k + 1] != '.')
			return 0;
	return (n % 2) == 1 && isupper((unsigned char)text[i + n - 1]);
}

static int
is_space_at(const char *s, size_t len, size_t i, size_t *w)
{
	unsigned char c = (unsigned char)s[i];

	*w = 1;
	if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
		return 1;
	if (i + 1 < len && c == 0xc2 && (unsigned char)s[i + 1] == 0xa0) {
		*w = 2;		/* no-break space */
		return 1;
	}
	return 0;
}

/* Whether a sentence can start at s[i]: a capital, or an opening quote or
 * parenthesis. A number or lower-case word after a stop is no new sentence
 * ("nr. 45", "2017–2018. in"). */
static int
sentence_start(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i], d;

	if (isupper(c) || c == '(' || c == '"' || c == '\'')
		return 1;
	if (i + 1 >= len)
		return 0;
	d = (unsigned char)s[i + 1];
	if (c == 0xc3 && d >= 0x80 && d <= 0x9e)
		return 1;	/* À..Þ */
	if (c == 0xc2 && d == 0xab)
		return 1;	/* « */
	if (c == 0xe2 && i + 2 < len && d == 0x80 &&
	    ((unsigned char)s[i + 2] == 0x98 || (unsigned char)s[i + 2] == 0x9c))
		return 1;	/* ‘ “ */
	return 0;
}

/* Bytes of closing quotes and parentheses at s[i], or 0. */
static size_t
closer_at(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];

	if (c == ')' || c == '"' || c == '\'')
		return 1;
	if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0xbb)
		return 2;	/* » */
	if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
	    ((unsigned char)s[i + 2] == 0x99 || (unsigned char)s[i + 2] == 0x9d))
		return 3;	/* ’ ” */
	return 0;
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* The index of the first footnote marker starting at or after byte i
 * (refs sorted by start: a block may carry many, and this is asked for
 * every byte). */
static size_t
first_ref_from(const struct pending *b, size_t i)
{
	size_t lo = 0, hi = b->nref;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->ref[mid].start < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The footnote marker starting at byte i, if any. */
static const struct span *
marker_at(const struct pending *b, size_t i)
{
	size_t k;

	for (k = first_ref_from(b, i); k < b->nref && b->ref[k].start == i; k++)
		if (b->ref[k].end > i)
			return &b->ref[k];
	return NULL;
}

/* If a sentence ends at the terminator s[i], returns 1 and sets *end (just
 * past the terminator and any closing quotes) and *next (where the next
 * sentence starts, after a footnote marker and white space). */
static int
sentence_end(const struct pending *b, size_t i, size_t *end, size_t *next)
{
	const char *s = b->text;
	size_t len = b->len, j, w, n, digits = 0;
	const struct span *m;

	if (s[i] == '.' && abbreviation_before(s, i))
		return 0;
	j = i + 1;
	while (j < len && (n = closer_at(s, len, j)) > 0)
		j += n;
	*end = j;
	if ((m = marker_at(b, j)) != NULL)
		j = m->end;
	else
		while (j < len && isdigit((unsigned char)s[j]) && digits < 3)
			j++, digits++;	/* a marker glued to the stop: "schap.1 Het" */
	if (j >= len)
		return 1;
	if (!is_space_at(s, len, j, &w))
		return 0;
	while (j < len && is_space_at(s, len, j, &w))
		j += w;
	if (j >= len)
		return 1;
	if (!sentence_start(s, len, j))
		return 0;
	*next = j;
	return 1;
}

/* ---------------------------------------------------------------- rules */

/* The start of the first footnote marker at or after byte i, or len. */
static size_t
next_marker(const struct pending *b, size_t i)
{
	size_t k = first_ref_from(b, i);

	return k < b->nref ? b->ref[k].start : b->len;
}

/* How many bytes from s[i] (at least 1, at most to end) hold no space, no
 * 0xc2 and no marker start after the first. */
static size_t
plain_run(const struct pending *b, size_t i, size_t end)
{
	size_t j = i + 1, stop = next_marker(b, i + 1);

	if (stop < end)
		end = stop;
	while (j < end) {
		unsigned char c = (unsigned char)b->text[j];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xc2)
			break;
		j++;
	}
	return j - i;
}

/* The sentence as rules see it: footnote markers left out, line breaks and
 * no-break spaces as plain spaces. */
static void
clean_sentence(const struct pending *b, size_t start, size_t end,
    struct buf *out)
{
	size_t i = start, w;
	const struct span *m;

	buf_clear(out);
	while (i < end) {
		if ((m = marker_at(b, i)) != NULL && m->end <= end) {
			i = m->end;
			continue;
		}
		if (is_space_at(b->text, b->len, i, &w)) {
			buf_addc(out, ' ');
			i += w;
			continue;
		}
		/* Copied a run at a time: up to the next byte that may start
		 * a space (0xc2: a no-break space) or a marker. */
		w = plain_run(b, i, end);
		buf_add(out, b->text + i, w);
		i += w;
	}
	utf8_repair(out);
}

/* rule_next, but a rule that backtracks too much on a sentence counts as
 * no match there and is reported once, as a warn record after the block. */
static int
next_match(struct ctx *c, struct rule *r, const char *s, size_t len,
    size_t *off, size_t *start, size_t *end)
{
	size_t i;
	int rc = rule_next(&c->rs, r, s, len, off, start, end);

	if (rc >= 0)
		return rc;
	for (i = 0; i < c->ngaveup; i++)
		if (c->gaveup[i] == r)
			return 0;
	c->gaveup = kst_xrealloc(c->gaveup, (c->ngaveup + 1) * sizeof(*c->gaveup));
	c->gaveup[c->ngaveup++] = r;
	fprintf(c->out, "warn\tcommit-rule-limit\trule %s (%s:%lu) gave up on "
	    "a sentence of block %s: the pattern backtracks too much\n",
	    r->name, r->file, r->line, c->blk.id);
	return 0;
}

static int
matches(struct ctx *c, struct rule *r, const char *s, size_t len)
{
	size_t off = 0, start, end;

	return next_match(c, r, s, len, &off, &start, &end) == 1;
}

static int
any_kind_matches(struct ctx *c, const char *kind, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < c->rs.n; i++)
		if (strcmp(c->rs.rule[i].kind, kind) == 0 &&
		    matches(c, &c->rs.rule[i], s, len))
			return 1;
	return 0;
}

static int
first_person(const char *who)
{
	return strcasecmp(who, "ik") == 0 || strcasecmp(who, "wij") == 0 ||
	    strcasecmp(who, "we") == 0;
}

/* The actor as the tag says it: "ik" is the signatory's functie. */
static void
resolve_actor(const struct ctx *c, const char *who, struct buf *out)
{
	buf_clear(out);
	if (!first_person(who) || c->functie == NULL) {
		buf_adds(out, who);
		return;
	}
	if (strncmp(c->functie, "De ", 3) == 0)
		buf_printf(out, "de %s", c->functie + 3);
	else
		buf_printf(out, "de %s", c->functie);
}

/* The first termijn rule for this kind that matches: sets termijn and datum. */
static int
find_termijn(struct ctx *c, const char *kind, const char *s, size_t len,
    struct buf *termijn, struct buf *datum)
{
	struct ruleset *rs = &c->rs;
	size_t i, off, start, end;

	for (i = 0; i < rs->n; i++) {
		struct rule *r = &rs->rule[i];
		const struct rule_attr *voor = rule_attr(r, "voor");
		const struct rule_attr *ta = rule_attr(r, "termijn");
		const struct rule_attr *da = rule_attr(r, "datum");

		if (strcmp(r->kind, "termijn") != 0)
			continue;
		if (voor && strstr(voor->text, kind) == NULL)
			continue;
		off = 0;
		while (next_match(c, r, s, len, &off, &start, &end) == 1) {
			buf_clear(termijn);
			buf_clear(datum);
			if (ta ? rule_expand(rs, ta, termijn) < 0 : 0)
				continue;
			if (ta == NULL)
				buf_add(termijn, s + start, end - start);
			if (da && rule_expand(rs, da, datum) < 0)
				continue;
			if (termijn->len)
				return 1;
		}
	}
	buf_clear(termijn);
	buf_clear(datum);
	return 0;
}

/* Whether the actor counts as the government (first person always does). */
static int
is_government(struct ctx *c, const char *who)
{
	size_t n = strlen(who);

	return first_person(who) || any_kind_matches(c, "regering", who, n);
}

struct verdict {
	const struct rule *rule;
	struct buf actor, termijn, datum;
};

/* Tries the cue rule r on sentence s; fills v when it holds. */
static int
try_cue(struct ctx *c, struct rule *r, const char *s, size_t len,
    struct verdict *v)
{
	struct ruleset *rs = &c->rs;
	const struct rule_attr *aa = rule_attr(r, "actor");
	const struct rule_attr *need = rule_attr(r, "vereist");
	struct buf who = BUF_INIT;
	size_t off = 0, start, end;
	int ok = 0;

	while (!ok && next_match(c, r, s, len, &off, &start, &end) == 1) {
		buf_clear(&who);
		if (aa && rule_expand(rs, aa, &who) < 0)
			continue;
		if (need && strstr(need->text, "regering") &&
		    !is_government(c, buf_str(&who)))
			continue;
		ok = 1;
	}
	if (ok && need && strstr(need->text, "toekomst") &&
	    any_kind_matches(c, "nu", s, len))
		ok = 0;
	if (ok && need && strstr(need->text, "vervolg") &&
	    (c->vervolg.len == 0 ||
	    !any_kind_matches(c, "vervolg", buf_str(&c->vervolg), c->vervolg.len)))
		ok = 0;
	if (ok) {
		find_termijn(c, r->kind, s, len, &v->termijn, &v->datum);
		if (need && strstr(need->text, "termijn") && v->termijn.len == 0)
			ok = 0;
	}
	if (ok) {
		v->rule = r;
		resolve_actor(c, buf_str(&who), &v->actor);
	}
	buf_free(&who);
	return ok;
}

/* The first cue rule (file order) that holds for the sentence, unless a
 * "geen" rule vetoes it. Most sentences match no rule, and a failing
 * pattern costs about half a microsecond a rule a sentence: rules whose
 * need words (docs/rules.md) are absent are skipped, as they cannot match
 * and a rule that does not match has no other effect. */
static int
judge(struct ctx *c, const char *s, size_t len, struct verdict *v)
{
	size_t i;

	rule_need_text(s, len, &c->need);
	for (i = 0; i < c->ngeen; i++)
		if (rule_may_match(c->geen[i], &c->need) &&
		    matches(c, c->geen[i], s, len))
			return 0;
	for (i = 0; i < c->ncue; i++)
		if (rule_may_match(c->cue[i], &c->need) &&
		    try_cue(c, c->cue[i], s, len, v))
			return 1;
	return 0;
}

static void
sort_rules(struct ctx *c)
{
	size_t i;

	c->geen = kst_xmalloc((c->rs.n + 1) * sizeof(*c->geen));
	c->cue = kst_xmalloc((c->rs.n + 1) * sizeof(*c->cue));
	for (i = 0; i < c->rs.n; i++) {
		struct rule *r = &c->rs.rule[i];

		if (strcmp(r->kind, "geen") == 0)
			c->geen[c->ngeen++] = r;
		else if (strcmp(r->kind, "toezegging") == 0 ||
		    strcmp(r->kind, "nakoming") == 0)
			c->cue[c->ncue++] = r;
	}
}

static void
write_tag(struct ctx *c, const char *id, size_t start, size_t end,
    const struct verdict *v)
{
	struct buf attrs = BUF_INIT, rule = BUF_INIT;

	if (v->actor.len)
		attr_add(&attrs, "actor", v->actor.s);
	if (v->termijn.len)
		attr_add(&attrs, "termijn", v->termijn.s);
	if (v->datum.len)
		attr_add(&attrs, "datum", v->datum.s);
	buf_printf(&rule, "commit:%s", v->rule->name);
	rec_begin(c->out, "tag");
	rec_field(c->out, id);
	rec_long_field(c->out, (long)start);
	rec_long_field(c->out, (long)end);
	rec_field(c->out, v->rule->kind);
	rec_field(c->out, attr_field(&attrs));
	rec_field(c->out, rule.s);
	rec_end(c->out);
	buf_free(&attrs);
	buf_free(&rule);
}

/* Judges one sentence of block id; 1 when it was tagged. */
static int
judge_sentence(struct ctx *c, const char *id, size_t start, size_t end,
    const struct buf *clean)
{
	struct verdict v;
	int tagged;

	memset(&v, 0, sizeof v);
	if ((tagged = judge(c, buf_str(clean), clean->len, &v)))
		write_tag(c, id, start, end, &v);
	buf_free(&v.actor);
	buf_free(&v.termijn);
	buf_free(&v.datum);
	return tagged;
}

static void
drop_carry(struct ctx *c)
{
	free(c->carry.id);
	c->carry.id = NULL;
	buf_clear(&c->carry.clean);
}

/* The previous block ended in an untagged sentence: judged again now that
 * its next sentence (the first of this block, in c->vervolg) is known, for
 * the rules that need one ("… heb ik toegezegd …." / "Met deze brief …").
 * Only those can change their mind, so a tag now is theirs. */
static void
judge_carry(struct ctx *c)
{
	if (c->carry.id != NULL && c->vervolg.len > 0)
		judge_sentence(c, c->carry.id, c->carry.start, c->carry.end,
		    &c->carry.clean);
	drop_carry(c);
}

static size_t
skip_blanks(const struct pending *b, size_t i)
{
	size_t w;
	const struct span *m;

	while (i < b->len) {
		if (is_space_at(b->text, b->len, i, &w))
			i += w;
		else if ((m = marker_at(b, i)) != NULL)
			i = m->end;
		else
			break;
	}
	return i;
}

static void
add_sentence(struct span **v, size_t *n, const struct pending *b,
    size_t start, size_t end)
{
	while (end > start && (b->text[end - 1] == ' ' || b->text[end - 1] == '\n'))
		end--;
	if (end <= start)
		return;
	*v = kst_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].start = start;
	(*v)[*n].end = end;
	(*n)++;
}

/* The block's sentences, in order. */
static size_t
split_sentences(const struct pending *b, struct span **v)
{
	size_t i, n = 0, start, end, next;

	*v = NULL;
	start = skip_blanks(b, 0);
	for (i = start; i < b->len; i++) {
		char ch = b->text[i];

		if (ch != '.' && ch != '?' && ch != '!')
			continue;
		next = b->len;
		if (!sentence_end(b, i, &end, &next))
			continue;
		add_sentence(v, &n, b, start, end);
		start = skip_blanks(b, next);
		i = start > 0 ? start - 1 : 0;
	}
	if (start < b->len)
		add_sentence(v, &n, b, start, b->len);
	return n;
}

/* Judges each sentence; the one after it is at hand for rules that need
 * it ("… heb ik toegezegd …. Met deze brief …"). */
static void
judge_block(struct ctx *c)
{
	struct pending *b = &c->blk;
	struct buf clean = BUF_INIT;
	struct span *sent;
	size_t k, n;

	if (b->nref > 1)
		qsort(b->ref, b->nref, sizeof(*b->ref), span_cmp);
	n = split_sentences(b, &sent);
	buf_clear(&c->vervolg);
	if (n > 0)
		clean_sentence(b, sent[0].start, sent[0].end, &c->vervolg);
	judge_carry(c);
	for (k = 0; k < n; k++) {
		/* the next sentence's clean text becomes the current one */
		buf_clear(&clean);
		buf_add(&clean, buf_str(&c->vervolg), c->vervolg.len);
		buf_clear(&c->vervolg);
		if (k + 1 < n)
			clean_sentence(b, sent[k + 1].start, sent[k + 1].end, &c->vervolg);
		if (!judge_sentence(c, b->id, sent[k].start, sent[k].end, &clean) &&
		    k + 1 == n) {
			c->carry.id = kst_xstrdup(b->id);
			c->carry.start = sent[k].start;
			c->carry.end = sent[k].end;
			buf_add(&c->carry.clean, buf_str(&clean), clean.len);
		}
	}
	buf_free(&clean);
	free(sent);
}

/* ---------------------------------------------------------------- stream */

/* Whether text (a heading, a documentsoort) matches a rule of kind. */
static int
text_matches(struct ctx *c, const char *kind, const char *text, size_t len)
{
	struct buf t = BUF_INIT;
	int hit;

	buf_add(&t, text, len);
	utf8_repair(&t);
	hit = any_kind_matches(c, kind, buf_str(&t), t.len);
	buf_free(&t);
	return hit;
}

static void
flush_block(struct ctx *c)
{
	if (!c->blk.active)
		return;
	judge_block(c);
	free(c->blk.id);
	free(c->blk.text);
	free(c->blk.ref);
	memset(&c->blk, 0, sizeof c->blk);
}

static void
open_block(struct ctx *c, const struct reader *r)
{
	const struct record *rec = &r->rec;

	rec_need(r, 6);
	if (strcmp(rec->field[2], "furniture") == 0 ||
	    strcmp(rec->field[2], "voetnoot") == 0)
		return;		/* not in the reading flow: a carry survives */
	if (strcmp(rec->field[2], "kop") == 0)
		c->nosection = text_matches(c, "geen-kop", rec->field[5], rec->len[5]);
	if (strcmp(rec->field[2], "al") != 0 && strcmp(rec->field[2], "li") != 0) {
		drop_carry(c);	/* a heading: what follows is another matter */
		return;
	}
	if (c->nodoc || c->nosection)
		return;
	c->blk.active = 1;
	c->blk.id = kst_xstrdup(rec->field[1]);
	c->blk.len = rec->len[5];
	c->blk.text = kst_xmalloc(c->blk.len + 1);
	memcpy(c->blk.text, rec->field[5], c->blk.len + 1);
}

/* A tag of the pending block: nootref markers are kept. */
static int
take_tag(struct ctx *c, const struct reader *r)
{
	const struct record *rec = &r->rec;
	long start, end;

	if (!c->blk.active || rec->nfield < 5 ||
	    strcmp(rec->field[1], c->blk.id) != 0)
		return 0;
	if (strcmp(rec->field[4], "nootref") != 0)
		return 1;
	start = rec_long(r, 2);
	end = rec_long(r, 3);
	if (start < 0 || end < start || (size_t)end > c->blk.len)
		return 1;	/* a broken tag is kst-xml's to report */
	c->blk.ref = kst_xrealloc(c->blk.ref, (c->blk.nref + 1) * sizeof(struct span));
	c->blk.ref[c->blk.nref].start = (size_t)start;
	c->blk.ref[c->blk.nref].end = (size_t)end;
	c->blk.nref++;
	return 1;
}

static void
take_meta(struct ctx *c, const struct reader *r)
{
	struct buf f = BUF_INIT;

	if (r->rec.nfield < 4)
		return;
	if (strcmp(r->rec.field[1], "documentsoort") == 0 &&
	    text_matches(c, "geen-soort", r->rec.field[3], r->rec.len[3]))
		c->nodoc = 1;
	if (strcmp(r->rec.field[1], "ondertekenaar") != 0 || c->functie != NULL)
		return;
	if (attr_get(r->rec.field[2], "functie", &f) && f.len)
		c->functie = buf_detach(&f);
	buf_free(&f);
}

static void
run(struct ctx *c, struct reader *r)
{
	while (reader_next(r)) {
		const struct record *rec = &r->rec;

		if (rec_is(rec, "kst"))
			continue;	/* the header is written once, by us */
		if (!(rec_is(rec, "tag") && take_tag(c, r)))
			flush_block(c);
		if (rec_is(rec, "meta"))
			take_meta(c, r);
		rec_write(c->out, rec);
		if (rec_is(rec, "block"))
			open_block(c, r);
	}
	flush_block(c);
}

int
main(int argc, char **argv)
{
	const char *name;
	char *outbuf = NULL;
	size_t outlen = 0;
	struct reader r;
	struct ctx c;
	FILE *in;

	kst_setprog(argv[0]);
	memset(&c, 0, sizeof c);
	in = rules_stage_open(argc, argv, "kst-commit", "commitments.rules", usage, &c.rs,
	    &name);
	sort_rules(&c);
	/* Nothing is written until the whole input has been read: a broken
	 * stream gives no partial output. */
	if ((c.out = open_memstream(&outbuf, &outlen)) == NULL)
		kst_die(KST_ELIMIT, "out of memory");
	reader_init(&r, in, name);
	stream_header(c.out);
	run(&c, &r);
	if (fclose(c.out) != 0)
		kst_die(KST_ELIMIT, "out of memory");
	fwrite(outbuf, 1, outlen, stdout);
	kst_close_stdout();

	free(outbuf);
	free(c.functie);
	free(c.gaveup);
	free(c.geen);
	free(c.cue);
	buf_free(&c.vervolg);
	need_text_free(&c.need);
	drop_carry(&c);
	buf_free(&c.carry.clean);
	reader_free(&r);
	rules_free(&c.rs);
	if (in != stdin)
		fclose(in);
	return KST_OK;
}
