/* kst.h - what every kst2xml stage shares: exit statuses and diagnostics. */
#ifndef KST_H
#define KST_H

#include <stddef.h>

#define KST_VERSION "0.1.0"
#define KST_STREAM_VERSION 1

/* Exit statuses, documented in docs/exit-status.md. Distinct per cause so that
 * a batch driver can report why a document failed without parsing stderr. */
enum kst_exit {
	KST_OK = 0,
	KST_EINVALID = 1,	/* kst-validate: document does not validate */
	KST_EUSAGE = 2,		/* bad command line */
	KST_ENOFILE = 3,	/* input missing or unreadable */
	KST_EEMPTY = 4,		/* input is an empty file */
	KST_ENOTPDF = 5,	/* input is not a PDF */
	KST_EDAMAGED = 6,	/* truncated or damaged PDF */
	KST_EENCRYPTED = 7,	/* encrypted PDF we cannot open */
	KST_ENOTEXT = 8,	/* PDF has no text layer: needs OCR */
	KST_ESTREAM = 9,	/* malformed stream input between stages */
	KST_ELIMIT = 10,	/* input exceeds a configured limit */
	KST_ERULES = 11,	/* rule file missing or malformed */
	KST_EOUTPUT = 12,	/* cannot write output */
	KST_ESTAGE = 13,	/* kst2xml: a stage crashed or was killed */
	KST_EINTERNAL = 70	/* a bug: please report */
};

extern const char *kst_progname;

void kst_setprog(const char *argv0);
/* One-line diagnostic "prog: what: message" on stderr. */
void kst_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, then exit with status. */
void kst_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void *kst_xmalloc(size_t n);
void *kst_xrealloc(void *p, size_t n);
char *kst_xstrdup(const char *s);
/* Flush stdout; die with KST_EOUTPUT if anything failed to be written. */
void kst_close_stdout(void);

#endif
