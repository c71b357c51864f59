/* buf.h - a growable byte string that is always NUL-terminated.
 * The struct owns s; buf_free releases it. Zero-initialised bufs are valid. */
#ifndef KST_BUF_H
#define KST_BUF_H

#include <stddef.h>

struct buf {
	char *s;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const char *s, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_clear(struct buf *b);
void buf_free(struct buf *b);
/* Hands the string to the caller, leaving b empty. */
char *buf_detach(struct buf *b);
/* Returns b->s, or "" for a never-written buf. */
const char *buf_str(const struct buf *b);

#endif
