/* rules.c - reads and runs regex rule files (docs/rules.md). */
#define _GNU_SOURCE		/* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rules.h"
#include "kst.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXFILTERS 4
#define MATCH_LIMIT 2000000

enum filter { F_NONE, F_MONTH, F_PAD2, F_NOSPACE, F_ONELINE, F_TRIM };

static const char *filter_names[] = {
	"", "month", "pad2", "nospace", "oneline", "trim", NULL
};

struct seg {
	char *lit;		/* literal text, or NULL for a group reference */
	size_t litlen;
	unsigned group;
	unsigned char filter[MAXFILTERS];
	size_t nfilter;
};

struct rule_tmpl {
	struct seg *seg;
	size_t nseg;
};

/* The parse state of one buffer: errors carry its name and line. */
struct parser {
	struct ruleset *rs;
	const char *file;
	unsigned long line;
	char *err;
	size_t errlen;
	size_t first;		/* index of this buffer's first rule */
};

static int
perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "%s:%lu: ", p->file, p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

void
rules_init(struct ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->mctx = pcre2_match_context_create(NULL);
	if (rs->mctx == NULL)
		kst_die(KST_ELIMIT, "out of memory");
	pcre2_set_match_limit(rs->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, MATCH_LIMIT / 10);
}

static void
tmpl_free(struct rule_tmpl *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nseg; i++)
		free(t->seg[i].lit);
	free(t->seg);
	free(t);
}

static void
rule_free(struct rule *r)
{
	size_t i;

	for (i = 0; i < r->nattr; i++) {
		free(r->attr[i].key);
		free(r->attr[i].text);
		tmpl_free(r->attr[i].tmpl);
	}
	free(r->attr);
	free(r->name);
	free(r->kind);
	free(r->pattern);
	for (i = 0; r->need && r->need[i]; i++)
		free(r->need[i]);
	free(r->need);
	free(r->needlen);
	if (r->re)
		pcre2_code_free(r->re);
	memset(r, 0, sizeof(*r));
}

void
rules_free(struct ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		rule_free(&rs->rule[i]);
	free(rs->rule);
	for (i = 0; i < rs->nfile; i++)
		free(rs->file[i]);
	free(rs->file);
	if (rs->md)
		pcre2_match_data_free(rs->md);
	if (rs->mctx)
		pcre2_match_context_free(rs->mctx);
	memset(rs, 0, sizeof(*rs));
}

/* Whether the 8 bytes at s are all ASCII and none is NUL. */
static int
ascii8(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof w);
	return ((w | (w - 0x0101010101010101u)) & 0x8080808080808080u) == 0;
}

/* Strict UTF-8 check: rule files are text, and PCRE2 wants valid UTF.
 * Runs of plain ASCII, most of any Dutch text, are passed 8 bytes at a
 * time: kst-meta checks a whole document once per view it scans. */
static int
utf8_valid(const unsigned char *s, size_t n, size_t *bad)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k, need = 0;
		unsigned cp;

		if (i + 8 <= n && ascii8(s + i)) {
			i += 8;
			continue;
		}

		if (c < 0x80) {
			if (c == 0)
				break;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; }
		else
			break;
		if (i + need >= n)
			break;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			break;
		i += need + 1;
	}
	if (i == n)
		return 1;
bad:
	*bad = i;
	return 0;
}

static int
is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_ident(int c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Rule names and kinds: letters, digits, and - _ . : */
static int
is_word(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!is_ident(*s) && *s != '-' && *s != '.' && *s != ':')
			return 0;
	return 1;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static struct rule *
cur_rule(struct parser *p)
{
	return p->rs->n > p->first ? &p->rs->rule[p->rs->n - 1] : NULL;
}

static int
start_rule(struct parser *p, char *args)
{
	struct ruleset *rs = p->rs;
	char *name, *kind, *extra, *save = NULL;
	struct rule *r;
	size_t i;

	name = strtok_r(args, " \t", &save);
	kind = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (name == NULL || kind == NULL || extra != NULL)
		return perr(p, "expected \"rule NAME KIND\"");
	if (!is_word(name) || !is_word(kind))
		return perr(p, "rule name and kind may hold only letters, digits and - _ . :");
	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->rule[i].name, name) == 0)
			return perr(p, "rule \"%s\" already defined at %s:%lu",
			    name, rs->rule[i].file, rs->rule[i].line);
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 32;
		rs->rule = kst_xrealloc(rs->rule, rs->cap * sizeof(*rs->rule));
	}
	r = &rs->rule[rs->n++];
	memset(r, 0, sizeof(*r));
	r->name = kst_xstrdup(name);
	r->kind = kst_xstrdup(kind);
	r->file = p->file;
	r->line = p->line;
	return 0;
}

static int
add_match(struct parser *p, struct rule *r, const char *text)
{
	struct buf b = BUF_INIT;

	if (*text == '\0')
		return perr(p, "empty match line");
	if (r->pattern) {
		buf_adds(&b, r->pattern);
		buf_addc(&b, '\n');
		free(r->pattern);
	}
	buf_adds(&b, text);
	r->pattern = buf_detach(&b);
	return 0;
}

static int
add_attr(struct parser *p, struct rule *r, const char *key, const char *text)
{
	size_t i;

	if (*text == '\0')
		return perr(p, "\"%s\" has no template", key);
	for (i = 0; i < r->nattr; i++)
		if (strcmp(r->attr[i].key, key) == 0)
			return perr(p, "\"%s\" given twice in rule \"%s\"", key, r->name);
	r->attr = kst_xrealloc(r->attr, (r->nattr + 1) * sizeof(*r->attr));
	r->attr[r->nattr].key = kst_xstrdup(key);
	r->attr[r->nattr].text = kst_xstrdup(text);
	r->attr[r->nattr].tmpl = NULL;
	r->nattr++;
	return 0;
}

/* An indented line: "match PATTERN" or "KEY TEMPLATE". */
static int
body_line(struct parser *p, char *s)
{
	struct rule *r = cur_rule(p);
	char *key = s, *rest;

	if (r == NULL)
		return perr(p, "indented line outside a rule (a rule starts with \"rule NAME KIND\")");
	if (!is_ident_start((unsigned char)*s))
		return perr(p, "expected \"match PATTERN\" or \"KEY TEMPLATE\"");
	for (rest = s; is_ident((unsigned char)*rest) || *rest == '-'; rest++)
		;
	if (*rest != '\0' && !is_blank(*rest))
		return perr(p, "bad key \"%.*s\"", (int)(rest - s + 1), s);
	if (*rest)
		*rest++ = '\0';
	while (is_blank(*rest))
		rest++;
	if (strcmp(key, "match") == 0)
		return add_match(p, r, rest);
	if (strcmp(key, "rule") == 0)
		return perr(p, "\"rule\" must start at the beginning of the line");
	return add_attr(p, r, key, rest);
}

static int
parse_line(struct parser *p, char *s)
{
	size_t n = strlen(s);

	while (n && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (n == 0)
		return 0;
	if (is_blank(*s)) {
		while (is_blank(*s))
			s++;
		if (*s == '#')
			return 0;
		return body_line(p, s);
	}
	if (*s == '#')
		return 0;
	if (strncmp(s, "rule", 4) == 0 && is_blank(s[4]))
		return start_rule(p, s + 5);
	return perr(p, "expected \"rule NAME KIND\", a comment or an indented line");
}

static int
find_filter(const char *s, size_t n)
{
	int i;

	for (i = 1; filter_names[i]; i++)
		if (strlen(filter_names[i]) == n && strncmp(filter_names[i], s, n) == 0)
			return i;
	return -1;
}

static void
seg_lit(struct rule_tmpl *t, const char *s, size_t n)
{
	struct seg *g;

	if (n == 0)
		return;
	t->seg = kst_xrealloc(t->seg, (t->nseg + 1) * sizeof(*t->seg));
	g = &t->seg[t->nseg++];
	memset(g, 0, sizeof(*g));
	g->lit = kst_xmalloc(n + 1);
	memcpy(g->lit, s, n);
	g->lit[n] = '\0';
	g->litlen = n;
}

/* Resolves a group reference "name" or "3" against the compiled pattern. */
static int
group_number(struct parser *p, const struct rule *r, const char *s, size_t n,
    unsigned *out)
{
	uint32_t count = 0;
	char name[128];
	int num;

	if (n == 0 || n >= sizeof name)
		return perr(p, "rule \"%s\": bad group reference in template", r->name);
	memcpy(name, s, n);
	name[n] = '\0';
	pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &count);
	if (name[0] >= '0' && name[0] <= '9') {
		if (n > 2 || !(name[n - 1] >= '0' && name[n - 1] <= '9') ||
		    (unsigned)atoi(name) > count)
			return perr(p, "rule \"%s\": template uses $%s, but the pattern has %u groups",
			    r->name, name, (unsigned)count);
		*out = (unsigned)atoi(name);
		return 0;
	}
	num = pcre2_substring_number_from_name(r->re, (PCRE2_SPTR)name);
	if (num == PCRE2_ERROR_NOUNIQUESUBSTRING)
		return perr(p, "rule \"%s\": group \"%s\" is defined twice; templates need unique names",
		    r->name, name);
	if (num < 0)
		return perr(p, "rule \"%s\": template uses $%s, which the pattern does not capture",
		    r->name, name);
	*out = (unsigned)num;
	return 0;
}

/* "${name|f|g}" starting after "${"; *len gets the length up to '}'. */
static int
parse_ref(struct parser *p, const struct rule *r, struct rule_tmpl *t,
    const char *s, size_t *len)
{
	const char *close = strchr(s, '}'), *bar, *f;
	struct seg g;

	if (close == NULL)
		return perr(p, "rule \"%s\": \"${\" without \"}\" in template", r->name);
	memset(&g, 0, sizeof(g));
	bar = memchr(s, '|', (size_t)(close - s));
	if (group_number(p, r, s, (size_t)((bar ? bar : close) - s), &g.group) < 0)
		return -1;
	for (f = bar; f && f < close; ) {
		const char *next = memchr(f + 1, '|', (size_t)(close - f - 1));
		const char *stop = next ? next : close;
		int k = find_filter(f + 1, (size_t)(stop - f - 1));

		if (k < 0)
			return perr(p, "rule \"%s\": unknown filter \"%.*s\" (filters: month pad2 nospace oneline trim)",
			    r->name, (int)(stop - f - 1), f + 1);
		if (g.nfilter == MAXFILTERS)
			return perr(p, "rule \"%s\": more than %d filters", r->name, MAXFILTERS);
		g.filter[g.nfilter++] = (unsigned char)k;
		f = next;
	}
	t->seg = kst_xrealloc(t->seg, (t->nseg + 1) * sizeof(*t->seg));
	t->seg[t->nseg++] = g;
	*len = (size_t)(close - s) + 1;
	return 0;
}

static int
compile_tmpl(struct parser *p, const struct rule *r, struct rule_attr *a)
{
	struct rule_tmpl *t = kst_xmalloc(sizeof(*t));
	const char *s = a->text, *lit = s;

	memset(t, 0, sizeof(*t));
	a->tmpl = t;
	while (*s) {
		size_t n = 0, i;
		struct seg g;

		if (*s != '$') {
			s++;
			continue;
		}
		seg_lit(t, lit, (size_t)(s - lit));
		if (s[1] == '$') {
			seg_lit(t, "$", 1);
			lit = s += 2;
			continue;
		}
		if (s[1] == '{') {
			if (parse_ref(p, r, t, s + 2, &n) < 0)
				return -1;
			lit = s += 2 + n;
			continue;
		}
		for (i = 1; is_ident((unsigned char)s[i]); i++)
			;
		if (i == 1)
			return perr(p, "rule \"%s\": \"$\" must be followed by a group, \"{\" or \"$\"", r->name);
		if (s[1] >= '0' && s[1] <= '9')
			i = 2;	/* $1x is group 1 then "x" */
		memset(&g, 0, sizeof(g));
		if (group_number(p, r, s + 1, i - 1, &g.group) < 0)
			return -1;
		t->seg = kst_xrealloc(t->seg, (t->nseg + 1) * sizeof(*t->seg));
		t->seg[t->nseg++] = g;
		lit = s += i;
	}
	seg_lit(t, lit, (size_t)(s - lit));
	return 0;
}

/* The words of a need key, split once: rule_may_match runs for every rule
 * on every text. */
static void
split_need(struct rule *r, const char *text)
{
	size_t n = 0, len;

	while (*text) {
		text += strspn(text, " \t");
		if ((len = strcspn(text, " \t")) == 0)
			break;
		r->need = kst_xrealloc(r->need, (n + 2) * sizeof(*r->need));
		r->needlen = kst_xrealloc(r->needlen, (n + 1) * sizeof(*r->needlen));
		r->need[n] = kst_xmalloc(len + 1);
		memcpy(r->need[n], text, len);
		r->need[n][len] = '\0';
		r->needlen[n++] = len;
		r->need[n] = NULL;
		text += len;
	}
}

/* Need words are found in an ASCII-lower-cased text: a capital or a
 * non-ASCII letter (which (?i) may match in another case) in one would
 * silently switch its rule off. */
static int
check_need(struct parser *p, struct rule *r)
{
	const struct rule_attr *a = rule_attr(r, "need");
	const char *c;

	if (a == NULL)
		return 0;
	for (c = a->text; *c; c++)
		if ((*c >= 'A' && *c <= 'Z') || (unsigned char)*c > '~' ||
		    ((unsigned char)*c < '!' && !is_blank(*c)))
			return perr(p, "rule \"%s\": need words are ASCII without capitals",
			    r->name);
	split_need(r, a->text);
	return 0;
}

static int
compile_rule(struct parser *p, struct rule *r)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	uint32_t count = 0;
	int code;
	size_t i;

	p->line = r->line;
	if (r->pattern == NULL)
		return perr(p, "rule \"%s\" has no \"match\" line", r->name);
	if (strchr(r->pattern, '\n') && strncmp(r->pattern, "(?x", 3) != 0)
		return perr(p, "rule \"%s\": a pattern on several match lines must start with (?x)",
		    r->name);
	r->re = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
	if (r->re == NULL) {
		pcre2_get_error_message(code, msg, sizeof msg);
		return perr(p, "rule \"%s\": pattern: %s at offset %zu",
		    r->name, (char *)msg, (size_t)off);
	}
	pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &count);
	if (count + 1 > p->rs->maxgroups)
		p->rs->maxgroups = count + 1;
	for (i = 0; i < r->nattr; i++)
		if (compile_tmpl(p, r, &r->attr[i]) < 0)
			return -1;
	return check_need(p, r);
}

static void
drop_from(struct ruleset *rs, size_t first)
{
	while (rs->n > first)
		rule_free(&rs->rule[--rs->n]);
}

static const char *
keep_name(struct ruleset *rs, const char *name)
{
	rs->file = kst_xrealloc(rs->file, (rs->nfile + 1) * sizeof(*rs->file));
	rs->file[rs->nfile] = kst_xstrdup(name);
	return rs->file[rs->nfile++];
}

static int
parse_lines(struct parser *p, char *text, size_t len)
{
	char *s = text, *end = text + len;

	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));

		if (nl == NULL)
			nl = end;
		*nl = '\0';
		p->line++;
		if (parse_line(p, s) < 0)
			return -1;
		s = nl + 1;
	}
	return 0;
}

int
rules_parse(struct ruleset *rs, const char *name, const char *text, size_t len,
    char *err, size_t errlen)
{
	struct parser p = { rs, NULL, 0, err, errlen, rs->n };
	size_t bad, i;
	char *copy;
	int rc;

	p.file = keep_name(rs, name);
	if (len > RULES_MAXFILE)
		return perr(&p, "rule file larger than %u bytes", RULES_MAXFILE);
	if (!utf8_valid((const unsigned char *)text, len, &bad)) {
		for (i = 0; i < bad; i++)
			if (text[i] == '\n')
				p.line++;
		p.line++;
		return perr(&p, text[bad] ? "invalid UTF-8" : "NUL byte");
	}
	copy = kst_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	rc = parse_lines(&p, copy, len);
	free(copy);
	for (i = p.first; rc == 0 && i < rs->n; i++)
		rc = compile_rule(&p, &rs->rule[i]);
	if (rc < 0) {
		drop_from(rs, p.first);
		return -1;
	}
	if (rs->md)
		pcre2_match_data_free(rs->md);
	rs->md = pcre2_match_data_create(rs->maxgroups ? rs->maxgroups : 1, NULL);
	if (rs->md == NULL)
		kst_die(KST_ELIMIT, "out of memory");
	return 0;
}

void
rules_load(struct ruleset *rs, const char *path)
{
	struct buf text = BUF_INIT;
	char chunk[8192], err[512];
	size_t n;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		kst_die(KST_ERULES, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		buf_add(&text, chunk, n);
		if (text.len > RULES_MAXFILE)
			break;
	}
	if (ferror(fp))
		kst_die(KST_ERULES, "%s: read error: %s", path, strerror(errno));
	fclose(fp);
	if (rules_parse(rs, path, buf_str(&text), text.len, err, sizeof err) < 0)
		kst_die(KST_ERULES, "%s", err);
	buf_free(&text);
}

static int
try_dir(const char *dir, const char *filename, struct buf *out)
{
	if (dir == NULL || *dir == '\0')
		return 0;
	buf_clear(out);
	buf_printf(out, "%s/%s", dir, filename);
	return access(out->s, R_OK) == 0;
}

const char *
rules_find(const char *filename, struct buf *out)
{
	char exe[4096];
	ssize_t n;

	if (try_dir(getenv("KST_RULES_DIR"), filename, out))
		return out->s;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			strcpy(slash, "/rules");
			if (try_dir(exe, filename, out))
				return out->s;
		}
	}
#ifdef KST_RULES_DIR
	if (try_dir(KST_RULES_DIR, filename, out))
		return out->s;
#endif
	return NULL;
}

void
rules_load_default(struct ruleset *rs, const char *filename)
{
	struct buf path = BUF_INIT;

	if (rules_find(filename, &path) == NULL)
		kst_die(KST_ERULES, "%s: rule file not found (looked in $KST_RULES_DIR, "
		    "<program dir>/rules%s)", filename,
#ifdef KST_RULES_DIR
		    ", " KST_RULES_DIR
#else
		    ""
#endif
		    );
	rules_load(rs, path.s);
	buf_free(&path);
}

const struct rule_attr *
rule_attr(const struct rule *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nattr; i++)
		if (strcmp(r->attr[i].key, key) == 0)
			return &r->attr[i];
	return NULL;
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t
utf8_len(const char *s, size_t left)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

	return n > left ? left : n;
}

int
rule_next(struct ruleset *rs, struct rule *r, const char *s, size_t len,
    size_t *offset, size_t *start, size_t *end)
{
	PCRE2_SIZE *ov;
	int rc;

	if (*offset > len)
		return 0;
	if (*offset == 0)
		r->scanned += len;
	if (!r->jit && r->scanned >= RULES_JIT_MIN) {
		pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);	/* interpreter if no JIT */
		r->jit = 1;
	}
	/* Subjects come from untrusted streams, so they are checked, but once
	 * per scan: PCRE2's own check runs from the offset to the end on every
	 * call, which makes finding all matches quadratic in the length. */
	if (s != rs->checked || len != rs->checked_len ||
	    *offset < rs->checked_from) {
		size_t bad;

		if (*offset < len && ((unsigned char)s[*offset] & 0xc0) == 0x80)
			return -1;	/* inside a character */
		if (!utf8_valid((const unsigned char *)s + *offset, len - *offset,
		    &bad))
			return -1;
		rs->checked = s;
		rs->checked_from = *offset;
		rs->checked_len = len;
	}
	rc = pcre2_match(r->re, (PCRE2_SPTR)s, len, *offset, PCRE2_NO_UTF_CHECK,
	    rs->md, rs->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return -1;
	ov = pcre2_get_ovector_pointer(rs->md);
	if (ov[1] < ov[0])	/* \K in a lookahead: refuse the odd match */
		return 0;
	*start = ov[0];
	*end = ov[1];
	*offset = ov[1] > ov[0] ? ov[1] :
	    ov[1] + (ov[1] < len ? utf8_len(s + ov[1], len - ov[1]) : 1);
	rs->subject = s;
	return 1;
}

void
utf8_repair(struct buf *b)
{
	struct buf o = BUF_INIT;
	size_t i = 0, bad;

	if (utf8_valid((const unsigned char *)buf_str(b), b->len, &bad))
		return;
	while (i < b->len) {
		if (!utf8_valid((const unsigned char *)b->s + i, b->len - i, &bad)) {
			buf_add(&o, b->s + i, bad);
			buf_adds(&o, "\xef\xbf\xbd");
			i += bad + 1;
			continue;
		}
		buf_add(&o, b->s + i, b->len - i);
		break;
	}
	buf_free(b);
	*b = o;
}

static const char *months[] = {
	"januari", "februari", "maart", "april", "mei", "juni", "juli",
	"augustus", "september", "oktober", "november", "december", NULL
};
static const char *month_abbr[] = {
	"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt",
	"nov", "dec", NULL
};

static int
month_number(const char *s)
{
	char low[16];
	size_t i, n = strlen(s);

	if (n == 0 || n >= sizeof low)
		return 0;
	for (i = 0; i <= n; i++)
		low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	if (n && low[n - 1] == '.')
		low[--n] = '\0';
	for (i = 0; months[i]; i++)
		if (strcmp(low, months[i]) == 0 || strcmp(low, month_abbr[i]) == 0)
			return (int)i + 1;
	if (strcmp(low, "sept") == 0)
		return 9;
	return 0;
}

/* Unicode spaces we treat as whitespace: NBSP, thin and narrow NBSP. */
static size_t
space_len(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (*u == ' ' || *u == '\t' || *u == '\n' || *u == '\r')
		return 1;
	if (u[0] == 0xc2 && u[1] == 0xa0)
		return 2;
	if (u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0x89 || u[2] == 0xaf))
		return 3;
	return 0;
}

static int
apply_filter(int f, struct buf *v)
{
	struct buf o = BUF_INIT;
	size_t i, k;
	int m;

	switch (f) {
	case F_MONTH:
		if ((m = month_number(buf_str(v))) == 0)
			return -1;
		buf_printf(&o, "%02d", m);
		break;
	case F_PAD2:
		if (v->len == 1)
			buf_addc(&o, '0');
		buf_adds(&o, buf_str(v));
		break;
	case F_NOSPACE:
		for (i = 0; i < v->len; i += k ? k : 1)
			if ((k = space_len(v->s + i)) == 0)
				buf_addc(&o, v->s[i]);
		break;
	case F_ONELINE:
	case F_TRIM:
		for (i = 0; i < v->len; i += k ? k : 1) {
			if ((k = space_len(v->s + i)) == 0) {
				buf_addc(&o, v->s[i]);
				continue;
			}
			if (f == F_ONELINE || v->s[i] != '\n') {
				if (o.len && o.s[o.len - 1] != ' ')
					buf_addc(&o, ' ');
			} else
				buf_addc(&o, '\n');
		}
		while (o.len && (o.s[o.len - 1] == ' ' || o.s[o.len - 1] == '\n'))
			o.s[--o.len] = '\0';
		break;
	}
	buf_clear(v);
	buf_add(v, buf_str(&o), o.len);
	buf_free(&o);
	return 0;
}

static unsigned
pair_bit(unsigned char a, unsigned char b)
{
	return (a * 31u + b) % 4096u;
}

/* Whether the valid UTF-8 at s[i] is the long s (U+017F) or the Kelvin
 * sign (U+212A), which (?i) folds to s and k. */
static int
odd_case_at(const char *s, size_t len, size_t i)
{
	const unsigned char *u = (const unsigned char *)s + i;

	return (u[0] == 0xc5 && i + 1 < len && u[1] == 0xbf) ||
	    (u[0] == 0xe2 && i + 2 < len && u[1] == 0x84 && u[2] == 0xaa);
}

void
rule_need_text(const char *s, size_t len, struct need_text *t)
{
	size_t i, bad;

	buf_clear(&t->lower);
	memset(t->pairs, 0, sizeof t->pairs);
	t->all = 1;
	if ((len && ((unsigned char)s[0] & 0xc0) == 0x80) ||
	    !utf8_valid((const unsigned char *)s, len, &bad))
		return;
	buf_add(&t->lower, s, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t->lower.s[i];
		unsigned k;

		if (c >= 0x80 && odd_case_at(s, len, i)) {
			buf_clear(&t->lower);
			memset(t->pairs, 0, sizeof t->pairs);
			return;
		}
		if (c >= 'A' && c <= 'Z')
			t->lower.s[i] = (char)(c += 32);
		if (i > 0) {
			k = pair_bit((unsigned char)t->lower.s[i - 1], c);
			t->pairs[k / 64] |= (uint64_t)1 << (k % 64);
		}
	}
	t->all = 0;
}

/* Whether word w (n bytes) occurs in t: every pair of it must. */
static int
need_word_in(const struct need_text *t, const char *w, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		unsigned k = pair_bit((unsigned char)w[i], (unsigned char)w[i + 1]);

		if (!(t->pairs[k / 64] & ((uint64_t)1 << (k % 64))))
			return 0;
	}
	return memmem(t->lower.s, t->lower.len, w, n) != NULL;
}

int
rule_may_match(const struct rule *r, const struct need_text *t)
{
	size_t i;

	if (r->need == NULL || t->all)
		return 1;
	for (i = 0; r->need[i]; i++)
		if (need_word_in(t, r->need[i], r->needlen[i]))
			return 1;
	return 0;
}

void
need_text_free(struct need_text *t)
{
	buf_free(&t->lower);
}

int
rule_expand(const struct ruleset *rs, const struct rule_attr *a, struct buf *out)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(rs->md);
	struct buf v = BUF_INIT;
	size_t i, k;

	for (i = 0; i < a->tmpl->nseg; i++) {
		const struct seg *g = &a->tmpl->seg[i];

		if (g->lit) {
			buf_add(out, g->lit, g->litlen);
			continue;
		}
		buf_clear(&v);
		if (ov[2 * g->group] != PCRE2_UNSET && ov[2 * g->group + 1] >= ov[2 * g->group])
			buf_add(&v, rs->subject + ov[2 * g->group],
			    ov[2 * g->group + 1] - ov[2 * g->group]);
		for (k = 0; k < g->nfilter; k++)
			if (v.len && apply_filter(g->filter[k], &v) < 0) {
				buf_free(&v);
				return -1;
			}
		buf_add(out, buf_str(&v), v.len);
	}
	buf_free(&v);
	return 0;
}

/* The -r files are loaded only once the whole command line has been found
 * sound, so a usage error is reported as such. */
FILE *
rules_stage_open(int argc, char **argv, const char *prog,
    const char *default_rules, void (*usage)(int status),
    struct ruleset *rs, const char **name)
{
	const char *path = "-";
	FILE *in = stdin;
	int argi;

	for (argi = 1; argi < argc; argi++) {
		if (strcmp(argv[argi], "--help") == 0 || strcmp(argv[argi], "-h") == 0)
			usage(KST_OK);
		if (strcmp(argv[argi], "--version") == 0) {
			printf("%s %s\n", prog, KST_VERSION);
			exit(KST_OK);
		}
		if (strcmp(argv[argi], "-r") == 0) {
			if (++argi == argc)
				usage(KST_EUSAGE);
			continue;
		}
		if (argv[argi][0] == '-' && argv[argi][1] != '\0')
			usage(KST_EUSAGE);
		break;
	}
	if (argc - argi > 1)
		usage(KST_EUSAGE);
	if (argi < argc)
		path = argv[argi];

	rules_init(rs);
	for (argi = 1; argi + 1 < argc; argi++)
		if (strcmp(argv[argi], "-r") == 0)
			rules_load(rs, argv[++argi]);
	rules_load_default(rs, default_rules);

	if (strcmp(path, "-") != 0 && (in = fopen(path, "r")) == NULL)
		kst_die(KST_ENOFILE, "%s: %s", path, strerror(errno));
	*name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	return in;
}
