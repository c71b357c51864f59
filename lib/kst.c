#include "kst.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kst_progname = "kst";

void
kst_setprog(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL)
		return;
	slash = strrchr(argv0, '/');
	kst_progname = slash ? slash + 1 : argv0;
}

static void
vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", kst_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
kst_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
kst_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void *
kst_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		kst_die(KST_ELIMIT, "out of memory (%zu bytes)", n);
	return p;
}

void *
kst_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		kst_die(KST_ELIMIT, "out of memory (%zu bytes)", n);
	return p;
}

char *
kst_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(kst_xmalloc(n), s, n);
}

void
kst_close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		kst_die(KST_EOUTPUT, "standard output: %s", strerror(errno));
}
