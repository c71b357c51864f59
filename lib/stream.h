/* stream.h - the record stream between kst2xml stages (docs/stream.md).
 *
 * One record a line, fields separated by tabs, the record kind first.
 * In fields, backslash, tab, newline and carriage return are written as
 * \\ \t \n \r. The first record of every stream is "kst<TAB>1". */
#ifndef KST_STREAM_H
#define KST_STREAM_H

#include <stdio.h>
#include "buf.h"

#define REC_MAXFIELDS 32
#define REC_MAXLINE (64u << 20)

struct record {
	size_t nfield;			/* fields including the kind */
	char *field[REC_MAXFIELDS];	/* unescaped, NUL-terminated */
	size_t len[REC_MAXFIELDS];	/* byte lengths of field[] */
	unsigned long lineno;
};

struct reader {
	FILE *fp;
	const char *name;		/* for messages; not owned */
	struct buf line;
	unsigned long lineno;
	struct record rec;
};

void reader_init(struct reader *r, FILE *fp, const char *name);
/* Reads the next record into r->rec, checking the header on the first call.
 * Returns 1 for a record, 0 at end of input. Malformed input is fatal:
 * a one-line message naming the input and line, exit KST_ESTREAM. */
int reader_next(struct reader *r);
void reader_free(struct reader *r);
/* Fatal error about the current record: "NAME:LINE: message". */
void reader_fail(const struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Field i as a number; fatal (via reader_fail) when it is not one. */
long rec_long(const struct reader *r, size_t i);
double rec_double(const struct reader *r, size_t i);
/* Fatal unless the record has at least n fields. */
void rec_need(const struct reader *r, size_t n);
int rec_is(const struct record *rec, const char *kind);

/* Parses one line (without its newline) into rec, in place; line must have
 * room for a NUL at line[len]. Returns NULL on
 * success or a static message. Exposed for tests and the fuzzer. */
const char *record_parse(char *line, size_t len, struct record *rec);

void stream_header(FILE *fp);
void rec_begin(FILE *fp, const char *kind);
void rec_field(FILE *fp, const char *s);
void rec_fieldn(FILE *fp, const char *s, size_t n);
void rec_long_field(FILE *fp, long v);
/* Coordinates and sizes: two decimals, so output is byte-stable. */
void rec_num_field(FILE *fp, double v);
void rec_end(FILE *fp);
/* Writes rec back out unchanged: stages pass on what they do not consume. */
void rec_write(FILE *fp, const struct record *rec);

/* Attributes: one field of key=value pairs joined by '&', or "-" when empty.
 * In values '%', '&', '=' and control characters are %XX-encoded. */
int attr_get(const char *attrs, const char *key, struct buf *value);
void attr_add(struct buf *attrs, const char *key, const char *value);
/* "-" for an empty attribute list, else the list itself. */
const char *attr_field(const struct buf *attrs);

#endif
