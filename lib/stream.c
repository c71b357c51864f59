#include "stream.h"
#include "kst.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
reader_init(struct reader *r, FILE *fp, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->name = name;
}

void
reader_free(struct reader *r)
{
	buf_free(&r->line);
}

void
reader_fail(const struct reader *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%lu: ", kst_progname, r->name, r->lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(KST_ESTREAM);
}

/* Unescapes s[0..n) in place; returns the new length or -1. */
static long
unescape(char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			s[o++] = s[i];
			continue;
		}
		if (++i == n)
			return -1;
		switch (s[i]) {
		case '\\': s[o++] = '\\'; break;
		case 't': s[o++] = '\t'; break;
		case 'n': s[o++] = '\n'; break;
		case 'r': s[o++] = '\r'; break;
		default: return -1;
		}
	}
	s[o] = '\0';
	return (long)o;
}

const char *
record_parse(char *line, size_t len, struct record *rec)
{
	char *p = line, *end = line + len, *tab;
	long n;

	rec->nfield = 0;
	if (len == 0)
		return "empty record";
	if (memchr(line, '\0', len) != NULL)
		return "NUL byte in record";
	for (;;) {
		if (rec->nfield == REC_MAXFIELDS)
			return "too many fields";
		tab = memchr(p, '\t', (size_t)(end - p));
		if (tab == NULL)
			tab = end;
		*tab = '\0';
		n = unescape(p, (size_t)(tab - p));
		if (n < 0)
			return "bad backslash escape";
		rec->field[rec->nfield] = p;
		rec->len[rec->nfield] = (size_t)n;
		rec->nfield++;
		if (tab == end)
			break;
		p = tab + 1;
	}
	if (rec->len[0] == 0)
		return "empty record kind";
	return NULL;
}

static int
read_line(struct reader *r)
{
	ssize_t n;

	/* getline, not getc: every stage reads the whole stream, and a locked
	 * getc per byte was a good part of a small stage's time. */
	errno = 0;
	n = getline(&r->line.s, &r->line.cap, r->fp);
	if (n < 0) {
		if (ferror(r->fp))
			kst_die(KST_ENOFILE, "%s: read error: %s", r->name,
			    strerror(errno));
		r->line.len = 0;
		return 0;
	}
	r->line.len = (size_t)n;
	r->lineno++;
	if (r->line.len > REC_MAXLINE)
		kst_die(KST_ELIMIT, "%s:%lu: record longer than %u bytes",
		    r->name, r->lineno, REC_MAXLINE);
	if (r->line.s[r->line.len - 1] != '\n')
		reader_fail(r, "truncated stream: last record has no newline");
	r->line.s[--r->line.len] = '\0';
	return 1;
}

static void
check_header(struct reader *r)
{
	if (r->rec.nfield < 2 || strcmp(r->rec.field[0], "kst") != 0)
		reader_fail(r, "not a kst stream (first record is not \"kst\")");
	if (atoi(r->rec.field[1]) != KST_STREAM_VERSION)
		reader_fail(r, "unsupported stream version %s (this is %d)",
		    r->rec.field[1], KST_STREAM_VERSION);
}

int
reader_next(struct reader *r)
{
	const char *err;

	if (!read_line(r)) {
		if (r->lineno == 0)
			reader_fail(r, "empty stream (no \"kst\" header)");
		return 0;
	}
	if (r->line.len && r->line.s[r->line.len - 1] == '\r')
		r->line.s[--r->line.len] = '\0';
	err = record_parse(r->line.s, r->line.len, &r->rec);
	if (err)
		reader_fail(r, "%s", err);
	r->rec.lineno = r->lineno;
	if (r->lineno == 1) {
		check_header(r);
		return reader_next(r);
	}
	return 1;
}

void
rec_need(const struct reader *r, size_t n)
{
	if (r->rec.nfield < n)
		reader_fail(r, "\"%s\" record needs %zu fields, has %zu",
		    r->rec.field[0], n, r->rec.nfield);
}

long
rec_long(const struct reader *r, size_t i)
{
	char *end;
	long v;

	rec_need(r, i + 1);
	errno = 0;
	v = strtol(r->rec.field[i], &end, 10);
	if (errno || end == r->rec.field[i] || *end != '\0')
		reader_fail(r, "field %zu of \"%s\" is not an integer: \"%s\"",
		    i + 1, r->rec.field[0], r->rec.field[i]);
	return v;
}

double
rec_double(const struct reader *r, size_t i)
{
	char *end;
	double v;

	rec_need(r, i + 1);
	errno = 0;
	v = strtod(r->rec.field[i], &end);
	if (errno || end == r->rec.field[i] || *end != '\0' || v != v)
		reader_fail(r, "field %zu of \"%s\" is not a number: \"%s\"",
		    i + 1, r->rec.field[0], r->rec.field[i]);
	return v;
}

int
rec_is(const struct record *rec, const char *kind)
{
	return strcmp(rec->field[0], kind) == 0;
}

void
stream_header(FILE *fp)
{
	fprintf(fp, "kst\t%d\n", KST_STREAM_VERSION);
}

static void
put_escaped(FILE *fp, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		const char *esc = NULL;

		switch (s[i]) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		}
		if (esc == NULL)
			continue;
		fwrite(s + run, 1, i - run, fp);
		fputs(esc, fp);
		run = i + 1;
	}
	fwrite(s + run, 1, n - run, fp);
}

void
rec_begin(FILE *fp, const char *kind)
{
	fputs(kind, fp);
}

void
rec_fieldn(FILE *fp, const char *s, size_t n)
{
	putc('\t', fp);
	put_escaped(fp, s, n);
}

void
rec_field(FILE *fp, const char *s)
{
	rec_fieldn(fp, s, strlen(s));
}

void
rec_long_field(FILE *fp, long v)
{
	fprintf(fp, "\t%ld", v);
}

void
rec_num_field(FILE *fp, double v)
{
	if (v > -0.005 && v < 0.005)
		v = 0;	/* never print "-0.00" */
	fprintf(fp, "\t%.2f", v);
}

void
rec_end(FILE *fp)
{
	putc('\n', fp);
}

void
rec_write(FILE *fp, const struct record *rec)
{
	size_t i;

	put_escaped(fp, rec->field[0], rec->len[0]);
	for (i = 1; i < rec->nfield; i++)
		rec_fieldn(fp, rec->field[i], rec->len[i]);
	rec_end(fp);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
decode_value(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			buf_addc(out, (char)(hi * 16 + lo));
			i += 2;
			continue;
		}
		buf_addc(out, s[i]);
	}
}

int
attr_get(const char *attrs, const char *key, struct buf *value)
{
	size_t klen = strlen(key);
	const char *p = attrs;

	if (strcmp(attrs, "-") == 0)
		return 0;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			buf_clear(value);
			decode_value(value, p + klen + 1, n - klen - 1);
			return 1;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return 0;
}

void
attr_add(struct buf *attrs, const char *key, const char *value)
{
	const unsigned char *v;

	if (attrs->len)
		buf_addc(attrs, '&');
	buf_adds(attrs, key);
	buf_addc(attrs, '=');
	for (v = (const unsigned char *)value; *v; v++) {
		if (*v == '%' || *v == '&' || *v == '=' || *v < 0x20 || *v == 0x7f)
			buf_printf(attrs, "%%%02X", *v);
		else
			buf_addc(attrs, (char)*v);
	}
}

const char *
attr_field(const struct buf *attrs)
{
	return attrs->len ? attrs->s : "-";
}
